"""The sweep grid: which cells a run measures, and the presets that bound it.

A cell is one (operation, format, workload, scale, variant, threads, batch size, backend)
combination; its ``cell_id`` is stable across runs and safe as a file name, so results of
two runs (or two machines) join on it. ``expand_grid`` turns a ``GridSpec`` into cells with
the baselines of every group included once: the library's sequential path, the plain
reference loop, and pigz for tar.gz creation when pigz and tar exist. Batch sizes are swept
only for the operations in ``batch_operations`` (others use the library default), which keeps
the grid small enough for a quick sweep on two cores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from archive_parallel.platform_info import usable_cpu_count
from bench.codec_axes import FOREIGN_FORMATS, backends_for, formats_for

logger = logging.getLogger(__name__)

ARCHIVE_OPERATIONS = ("create", "extract", "verify")
TREE_OPERATIONS = ("checksum", "walk")
ALL_OPERATIONS = ARCHIVE_OPERATIONS + TREE_OPERATIONS
ALL_FORMATS = ("tar.gz", "tar.bz2", "tar.xz", "tar", "zip", "tar.zst", *FOREIGN_FORMATS)
#: formats whose deflate implementation the ``compression_backend`` setting changes
DEFAULT_BATCH_SIZE = 50
#: batch_size written for rows where it does not apply (sequential, reference, pigz)
NO_BATCH = 0


@dataclass(frozen=True, order=True)
class Cell:
    operation: str
    format: str
    workload: str
    scale: float
    variant: str
    threads: int
    batch_size: int
    backend: str

    @property
    def cell_id(self) -> str:
        fmt = self.format.replace(".", "") or "tree"
        scale = f"{self.scale:g}".replace(".", "p")
        return (
            f"{self.operation}-{fmt}-{self.workload}-s{scale}-{self.variant}"
            f"-t{self.threads}-b{self.batch_size}-{self.backend}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cell_id": self.cell_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cell:
        return cls(
            operation=data["operation"],
            format=data["format"],
            workload=data["workload"],
            scale=float(data["scale"]),
            variant=data["variant"],
            threads=int(data["threads"]),
            batch_size=int(data["batch_size"]),
            backend=data["backend"],
        )


@dataclass(frozen=True)
class Workload:
    profile: str
    scale: float


@dataclass(frozen=True)
class TimingSettings:
    """pyperf settings per cell: worker processes, values per process, warmups, loops."""

    processes: int = 3
    values: int = 3
    warmups: int = 1
    loops: int = 1  # 0 lets pyperf calibrate (for short operations)
    min_time: float = 0.1
    #: choose loops per cell from the memory run's duration (no calibration process):
    #: enough loops for one value to last ``min_time``
    auto_loops: bool = False


@dataclass(frozen=True)
class GridSpec:
    operations: tuple[str, ...] = ALL_OPERATIONS
    formats: tuple[str, ...] = ("tar.gz", "tar.bz2", "tar.xz", "zip")
    workloads: tuple[Workload, ...] = (Workload("medium", 1.0), Workload("many-tiny", 1.0))
    threads: tuple[int, ...] = (1, 2, 4, 8)
    batch_sizes: tuple[int, ...] = (10, 50, 200)
    batch_operations: tuple[str, ...] = ALL_OPERATIONS
    backends: tuple[str, ...] = ("zlib",)
    include_sequential: bool = True
    include_reference: bool = True
    include_pigz: bool = True
    #: workloads of the tree operations (checksum, walk) when not ``workloads``: they read a
    #: tree and write nothing, so they need bigger trees to last as long as archive work
    tree_workloads: tuple[Workload, ...] = ()
    #: (format, profile names) pairs: that format is measured on those profiles of
    #: ``workloads`` only (slow codecs such as xz would take a sweep's whole budget on a
    #: large tree); formats not listed run on every workload
    format_workloads: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["workloads"] = [asdict(w) for w in self.workloads]
        data["tree_workloads"] = [asdict(w) for w in self.tree_workloads]
        # the digest of grids without these stays what it was
        for optional in ("tree_workloads", "format_workloads"):
            if not getattr(self, optional):
                del data[optional]
        return data

    def measures(self, fmt: str, profile: str) -> bool:
        """Whether ``format_workloads`` lets ``fmt`` run on the ``profile`` workload."""
        limits = dict(self.format_workloads)
        return fmt not in limits or profile in limits[fmt]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GridSpec:
        """The spec saved in a run.json (``to_dict``), for resuming it with its own grid."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in ("workloads", "tree_workloads"):
                value = tuple(Workload(w["profile"], float(w["scale"])) for w in value)
            elif key == "format_workloads":
                value = tuple((fmt, tuple(profiles)) for fmt, profiles in value)
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(**values)

    def digest(self) -> str:
        """Short hash of the spec: a run only resumes a run with the same grid."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Preset:
    name: str
    grid: GridSpec
    timing: TimingSettings
    budget_min: float
    flamegraphs: bool = False
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


#: the workloads of the slow formats (tar.bz2, tar.xz) in the codecs preset: the realistic
#: deploy package and a small one (the 150 MB medium tree takes minutes per xz cell)
SHIP_PROFILES = ("package", "small")

PRESETS: dict[str, Preset] = {
    "quick": Preset(
        name="quick",
        grid=GridSpec(
            operations=("create", "extract", "checksum"),
            formats=("tar.gz", "zip"),
            workloads=(
                Workload("medium", 0.05),
                Workload("many-tiny", 0.02),
                Workload("package", 0.05),
            ),
            tree_workloads=(
                Workload("medium", 0.25),
                Workload("many-tiny", 0.25),
                Workload("package", 0.5),
            ),
            threads=(2, 4),
            batch_sizes=(DEFAULT_BATCH_SIZE,),
            batch_operations=(),
            include_pigz=False,
        ),
        timing=TimingSettings(
            processes=2, values=3, warmups=1, loops=1, min_time=0.05, auto_loops=True
        ),
        budget_min=5.0,
        notes="the realistic package tree among three workloads, scaled so a cell lasts 50 ms "
        "or more; 2 and 4 threads; at most 5 minutes of cells on 2 cores",
    ),
    "targets": Preset(
        name="targets",
        grid=GridSpec(
            operations=("create", "extract", "checksum"),
            formats=("tar.gz", "zip", "tar.bz2"),
            workloads=(Workload("medium", 1.0), Workload("many-tiny", 1.0)),
            threads=(2, 4),
            batch_sizes=(50,),
            batch_operations=(),
            backends=("zlib",),
        ),
        timing=TimingSettings(
            processes=2, values=3, warmups=1, loops=1, min_time=0.05, auto_loops=False
        ),
        budget_min=45.0,
        notes="the 2-4x targets at full scale: medium and many-tiny, 2 and 4 threads",
    ),
    "codecs": Preset(
        name="codecs",
        grid=GridSpec(
            operations=("create", "extract"),
            formats=("tar.gz", "zip", "tar.zst", "tar.bz2", "tar.xz", *FOREIGN_FORMATS),
            workloads=(Workload("medium", 1.0), Workload("package", 1.0), Workload("small", 1.0)),
            threads=(2,),
            batch_sizes=(50,),
            batch_operations=(),
            backends=("zlib", "zlib-ng", "isal", "rapidgzip"),
            include_pigz=False,
            format_workloads=(("tar.bz2", SHIP_PROFILES), ("tar.xz", SHIP_PROFILES)),
        ),
        timing=TimingSettings(
            processes=1, values=5, warmups=1, loops=0, min_time=0.05, auto_loops=True
        ),
        budget_min=75.0,
        notes="what a user chooses between: formats tar.gz, zip, tar.zst, tar.bz2, tar.xz "
        "(bz2 and xz on package and small only) and backends zlib/zlib-ng/isal/rapidgzip, "
        "archives of other tools, medium, package and small at 2 threads; the report's "
        "what-to-ship table and python -m bench.codec_targets read it",
    ),
    "full": Preset(
        name="full",
        grid=GridSpec(
            operations=ALL_OPERATIONS,
            formats=("tar.gz", "tar.bz2", "tar.xz", "zip", "tar.zst", "tar"),
            workloads=(
                Workload("small", 1.0),
                Workload("medium", 1.0),
                Workload("many-tiny", 1.0),
                Workload("few-huge", 0.5),
                Workload("package", 1.0),
            ),
        ),
        timing=TimingSettings(processes=5, values=3, warmups=1, loops=0, min_time=0.1),
        budget_min=240.0,
        flamegraphs=True,
        notes="every operation and format the library writes, batch sizes swept everywhere",
    ),
}


def cap_threads(threads: tuple[int, ...], cpu_count: int | None = None) -> tuple[int, ...]:
    """Thread counts up to twice the usable CPUs (always keeping 1 and 2)."""
    cpus = cpu_count or usable_cpu_count()
    limit = max(2, 2 * cpus)
    kept = tuple(sorted({t for t in threads if 1 <= t <= limit}))
    return kept or (1,)


def pigz_available() -> bool:
    return shutil.which("pigz") is not None and shutil.which("tar") is not None


def expand_grid(spec: GridSpec, *, pigz: bool | None = None) -> list[Cell]:
    """Every cell of ``spec`` in a stable order (baselines included once per group)."""
    use_pigz = spec.include_pigz and (pigz_available() if pigz is None else pigz)
    cells: list[Cell] = []
    for op in spec.operations:
        formats = formats_for(op, spec.formats) if op in ARCHIVE_OPERATIONS else ("",)
        workloads = spec.tree_workloads if op in TREE_OPERATIONS else ()
        batches = spec.batch_sizes if op in spec.batch_operations else (DEFAULT_BATCH_SIZE,)
        for fmt in formats:
            backends = backends_for(op, fmt, spec.backends)
            for wl in workloads or spec.workloads:
                if not spec.measures(fmt, wl.profile):
                    continue
                base = Cell(op, fmt, wl.profile, float(wl.scale), "", 1, NO_BATCH, "zlib")
                if spec.include_reference:
                    cells.append(replace(base, variant="reference"))
                if use_pigz and op == "create" and fmt == "tar.gz":
                    cells.extend(replace(base, variant="pigz", threads=t) for t in spec.threads)
                for backend in backends:
                    if spec.include_sequential:
                        cells.append(replace(base, variant="sequential", backend=backend))
                    for threads in spec.threads:
                        for batch in batches:
                            cells.append(
                                replace(
                                    base,
                                    variant="parallel",
                                    threads=threads,
                                    batch_size=batch,
                                    backend=backend,
                                )
                            )
    ids = [c.cell_id for c in cells]
    if len(set(ids)) != len(ids):
        raise ValueError("grid produced duplicate cell ids")
    return cells


def shuffled(cells: list[Cell], seed: int) -> list[Cell]:
    """The measuring order: groups (operation, format, workload, scale) in random order, and
    the cells of each group, its baselines among them, in random order one after the other.

    Random, so slow drift (heat, background load) hits every configuration alike instead of
    one block of cells; grouped, so a time budget that stops a sweep leaves whole groups
    measured or not, never parallel cells without the baselines they are judged against."""
    rng = random.Random(seed)
    groups: dict[tuple, list[Cell]] = {}
    for cell in sorted(cells):
        groups.setdefault((cell.operation, cell.format, cell.workload, cell.scale), []).append(cell)
    keys = sorted(groups)
    rng.shuffle(keys)
    order: list[Cell] = []
    for key in keys:
        members = groups[key]
        rng.shuffle(members)
        order.extend(members)
    return order
