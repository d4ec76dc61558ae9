"""bench-disk: generation speed against ``dd if=/dev/zero`` writing the same bytes, side by side.

Each round runs, in turn: ``dd`` (one file, 1 MiB blocks, as many bytes as the tree holds); a
plain writer (the same folders and files, zeros, one thread, no hashing: the file system's own
cost for this tree shape, file creation included); and ``make_tree`` (fresh, no reuse). Each is
timed until its data is on disk (``os.sync`` inside the timing; ``sync=False`` times page-cache
writes instead). Rounds alternate so drift hits all three alike; ratios of median throughputs
are what ``docs/performance.md`` records. A benchmark helper, not a test: tests never assert
on durations.

All of it is written in a private folder ``fixtures-gen-bench-disk-*`` made under the folder
the caller names, and removed at the end however the run ends (``scratch.private_folder``):
nothing the user keeps there is touched.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .content import parse_content
from .generate import (
    FreeSpaceProbe,
    check_room,
    check_scale,
    disk_free,
    make_tree,
    required_bytes,
)
from .manifest import manifest_path_for
from .plan import TreePlan, plan_tree
from .pools import pool_for
from .profiles import Profile, estimate_bytes, resolve_profile
from .scratch import private_folder

MIB = 1024 * 1024
SCRATCH_PREFIX = "fixtures-gen-bench-disk-"


@dataclass
class DiskBenchResult:
    profile: str
    scale: float
    rounds: int
    sync: bool
    tree_bytes: int
    tree_files: int
    dd_bytes: int
    dd_seconds: list[float]
    plain_seconds: list[float]
    generate_seconds: list[float]
    dd_command: str

    @property
    def dd_mb_per_s(self) -> float:
        return self.dd_bytes / statistics.median(self.dd_seconds) / 1e6

    @property
    def generate_mb_per_s(self) -> float:
        return self.tree_bytes / statistics.median(self.generate_seconds) / 1e6

    @property
    def plain_mb_per_s(self) -> float:
        return self.tree_bytes / statistics.median(self.plain_seconds) / 1e6

    @property
    def ratio_to_plain(self) -> float:
        """Generation throughput over the plain writer's (the generator's own overhead)."""
        return self.generate_mb_per_s / self.plain_mb_per_s

    @property
    def ratio(self) -> float:
        """Generation throughput over dd throughput (>= 0.5 is the target)."""
        return self.generate_mb_per_s / self.dd_mb_per_s

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            dd_mb_per_s=round(self.dd_mb_per_s, 1),
            plain_mb_per_s=round(self.plain_mb_per_s, 1),
            generate_mb_per_s=round(self.generate_mb_per_s, 1),
            ratio=round(self.ratio, 3),
            ratio_to_plain=round(self.ratio_to_plain, 3),
        )
        return data

    def summary(self) -> str:
        return (
            f"{self.profile} x{self.scale}: {self.tree_files:,} files, {self.tree_bytes / 1e6:,.0f}"
            f" MB; fixtures-gen {self.generate_mb_per_s:,.0f} MB/s, dd {self.dd_mb_per_s:,.0f}"
            f" MB/s, plain writer {self.plain_mb_per_s:,.0f} MB/s; ratio to dd {self.ratio:.2f},"
            f" to the plain writer {self.ratio_to_plain:.2f} (median of {self.rounds} rounds, "
            f"{'synced to disk' if self.sync else 'page cache'})"
        )


def measure_against_dd(
    work_dir: str | os.PathLike[str],
    profile: str = "large",
    scale: float = 1.0,
    seed: int = 0,
    rounds: int = 2,
    sync: bool = True,
    *,
    free_space: FreeSpaceProbe | None = None,
) -> DiskBenchResult:
    """Time dd, the plain writer and ``make_tree`` in a private folder under ``work_dir``
    (made, with ``work_dir`` when it is missing, and removed at the end). Refused before
    anything is made when the profile is unknown, the scale is not above 0, or the file
    system lacks room for the tree (``free_space`` replaces the probe, as in ``make_tree``)."""
    resolved = resolve_profile(profile)
    check_scale(scale)
    check_room(Path(work_dir), None, required_bytes(resolved, scale), free_space or disk_free)
    with private_folder(work_dir, SCRATCH_PREFIX) as scratch:
        return _measure(scratch, resolved, scale, seed, rounds, sync)


def _measure(
    scratch: Path, resolved: Profile, scale: float, seed: int, rounds: int, sync: bool
) -> DiskBenchResult:
    tree_bytes = estimate_bytes(resolved, scale)
    blocks = max(1, round(tree_bytes / MIB))
    dd_target = scratch / "dd-zero.bin"
    dd_command = ["dd", "if=/dev/zero", f"of={dd_target}", f"bs={MIB}", f"count={blocks}"]
    tree_dir = scratch / "tree"
    plan = plan_tree(resolved, scale, seed)
    for model in {
        m for planned in plan.files for m, _ in parse_content(planned.content).components
    }:
        pool_for(model)  # built once per process (about a second): not part of the throughput
    plain_dir = scratch / "plain"
    dd_seconds: list[float] = []
    plain_seconds: list[float] = []
    generate_seconds: list[float] = []
    files = 0
    _settle(sync)
    for _ in range(rounds):  # each step's output is removed outside the timings
        started = time.perf_counter()
        _run_dd(dd_command, dd_target)
        if sync:
            os.sync()
        dd_seconds.append(time.perf_counter() - started)
        dd_target.unlink()
        _settle(sync)

        started = time.perf_counter()
        _plain_write(plan, plain_dir)
        if sync:
            os.sync()
        plain_seconds.append(time.perf_counter() - started)
        shutil.rmtree(plain_dir)
        _settle(sync)

        started = time.perf_counter()
        manifest = make_tree(resolved, tree_dir, scale=scale, seed=seed, reuse=False)
        if sync:
            os.sync()
        generate_seconds.append(time.perf_counter() - started)
        files = manifest.file_count
        manifest_path_for(tree_dir).unlink()
        shutil.rmtree(tree_dir)
        _settle(sync)
    return DiskBenchResult(
        profile=resolved.name,
        scale=scale,
        rounds=rounds,
        sync=sync,
        tree_bytes=tree_bytes,
        tree_files=files,
        dd_bytes=blocks * MIB,
        dd_seconds=dd_seconds,
        plain_seconds=plain_seconds,
        generate_seconds=generate_seconds,
        dd_command=" ".join(dd_command[:1] + ["if=/dev/zero", "of=FILE"] + dd_command[3:]),
    )


def _settle(sync: bool) -> None:
    """Flush the previous step's deletions outside every timing, so no step pays for another."""
    if sync:
        os.sync()


def _plain_write(plan: TreePlan, root: Path) -> None:
    zeros = bytes(MIB)
    for folder in ["", *plan.dirs]:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for planned in plan.files:
        with open(root / planned.path, "wb") as handle:
            left = planned.size
            while left:
                step = min(left, MIB)
                handle.write(zeros[:step])
                left -= step


def _run_dd(command: list[str], target: Path) -> None:
    """Run ``dd``; its failure (a full disk, most likely) as an ``OSError`` of one line."""
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise OSError(f"dd could not write {target}: {reason}")
