"""make_tree: plan, check room, write the tree beside its final place, then publish it.

Order of work, chosen so no interrupted run ever looks complete:

1. Reuse: if ``<out>.manifest.json`` records the same recipe, scale, seed and generator version
   and a quick check (kinds, sizes) passes, return it without writing anything.
2. Refuse early when the file system lacks room (``InsufficientSpaceError``).
3. Remove a previous run's leftovers: a tree whose manifest we wrote, and an unfinished build
   (``<out>.partial``, with ``<manifest>.pending`` beside it). Only what such a file marks as
   ours is removed: a non-empty ``out_dir`` without our manifest, a non-empty
   ``<out>.partial`` without a ``.pending``, a manifest or ``.pending`` we did not write, and
   entries in our tree its manifest does not list (unless ``force``) are errors, raised
   before anything is removed.
4. Claim the build: create an empty ``<manifest>.pending``, then ``<out>.partial``. Write
   everything into ``<out>.partial``: folders, then files (a thread pool; each file streamed in
   segments and hashed on the way), then links, then fixed mtimes.
5. Write the manifest into ``<manifest>.pending``, rename the tree into place, rename the
   manifest into place. Ctrl-C or SIGTERM (through ``sigterm_as_interrupt``) waits until both
   renames are done (``held_interrupts``). A crash (a kill, a power cut, a second signal)
   leaves ``.pending`` behind, which marks ``<out>.partial`` or the tree as ours to remove on
   the next run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import posixpath
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from archive_parallel.interrupts import held_interrupts
from archive_parallel.progress import ProgressReporter
from archive_parallel.terminal_progress import progress_for

from .content import iter_content, parse_content
from .errors import FixturesError, InsufficientSpaceError, UnlistedEntriesError
from .manifest import (
    GENERATOR_VERSION,
    Manifest,
    ManifestEntry,
    load_manifest,
    manifest_path_for,
    read_manifest_file,
    save_manifest,
)
from .plan import PlannedFile, TreePlan, plan_tree
from .profiles import Profile, estimate_bytes, estimate_file_count, resolve_profile
from .verify import quick_check
from .walk import walk_tree

logger = logging.getLogger(__name__)

FIXED_MTIME = 1_704_067_200  # 2024-01-01T00:00:00Z: reproducible archives of the tree
BLOCK_OVERHEAD = 4096  # per file and folder, for the room estimate
ROOM_MARGIN = 16 * 1024 * 1024

FreeSpaceProbe = Callable[[Path], int]


def make_tree(
    profile: str | Profile,
    out_dir: str | os.PathLike[str],
    scale: float = 1.0,
    seed: int = 0,
    progress: bool = False,
    reuse: bool = True,
    *,
    force: bool = False,
    free_space: FreeSpaceProbe | None = None,
    max_workers: int | None = None,
) -> Manifest:
    """Generate ``profile`` at ``scale``/``seed`` into ``out_dir``; return its manifest.

    The manifest is written beside the tree at ``manifest_path_for(out_dir)``. ``progress``
    shows a byte-counting bar on stderr when it is a terminal and tqdm is installed (the
    archiver's own bar). A tree made earlier at ``out_dir`` is replaced only when it holds
    nothing its manifest does not list (``UnlistedEntriesError`` otherwise, before anything is
    removed); ``force`` deletes such entries with it. ``free_space`` replaces the free-space
    probe (``shutil.disk_usage``), for tests.
    """
    profile = resolve_profile(profile)
    check_scale(scale)
    out_dir = Path(out_dir)
    manifest_path = manifest_path_for(out_dir)
    recipe = recipe_of(profile)

    if reuse:
        existing = reusable_manifest(
            out_dir,
            lambda manifest: (
                manifest.recipe == recipe
                and manifest.scale == float(scale)
                and manifest.seed == seed
                and manifest.generator_version == GENERATOR_VERSION
            ),
        )
        if existing is not None:
            logger.info("reusing %s (manifest matches)", out_dir)
            return existing

    _check_room(profile, scale, out_dir, manifest_path, free_space or disk_free)
    plan = plan_tree(profile, scale, seed)
    logger.info(
        "generating %s x%s seed %s: %d files, %d bytes",
        profile.name,
        scale,
        seed,
        len(plan.files),
        plan.total_bytes,
    )

    def build(partial_dir: Path) -> Manifest:
        entries = _write_plan(plan, partial_dir, progress, max_workers, profile.name)
        return Manifest(
            profile=profile.name, scale=float(scale), seed=seed, recipe=recipe, files=entries
        )

    return publish_tree(out_dir, build, force=force)


def check_scale(scale: float) -> None:
    """Refuse (``FixturesError``) a scale that is not a finite number above 0."""
    if not (math.isfinite(scale) and scale > 0):
        raise FixturesError(f"scale must be a finite number above 0, not {scale}")


def publish_tree(
    out_dir: Path, build: Callable[[Path], Manifest], *, force: bool = False
) -> Manifest:
    """Make a tree at ``out_dir``: what was there before is removed (``clear_previous``),
    ``build`` fills ``<out_dir>.partial`` and returns its manifest, and the tree is put in
    place with its manifest written last, so an interrupted build never looks complete and a
    failed one leaves nothing behind. ``<manifest>.pending`` is made before ``.partial`` and
    outlives it: whatever stops the run, what it made stays marked as its own. ``force``
    also removes entries the old tree's manifest does not list."""
    manifest_path = manifest_path_for(out_dir)
    pending_path = manifest_path.with_name(manifest_path.name + ".pending")
    partial_dir = out_dir.with_name(out_dir.name + ".partial")
    clear_previous(out_dir, manifest_path, pending_path, partial_dir, force)
    claimed = made = False
    try:
        with held_interrupts():  # the claim and the folder are known to the clean-up below
            pending_path.open("x").close()
            claimed = True
            partial_dir.mkdir(parents=True)
            made = True
        manifest = build(partial_dir)
        save_manifest(manifest, pending_path)
        with held_interrupts():  # an interrupt here comes after both renames
            partial_dir.rename(out_dir)
            os.replace(pending_path, manifest_path)
    except BaseException:
        if not made or partial_dir.exists():  # the tree never got into place: nothing stays
            if made:
                shutil.rmtree(partial_dir, ignore_errors=True)
            if claimed:
                pending_path.unlink(missing_ok=True)
        # else the tree is in place: a .pending left beside it marks it as ours to remove
        raise
    return manifest


def recipe_of(profile: Profile) -> dict[str, Any]:
    """The profile as plain JSON values (what the manifest stores and reuse compares)."""
    return json.loads(json.dumps(profile.to_dict()))


def reusable_manifest(out_dir: Path, matches: Callable[[Manifest], bool]) -> Manifest | None:
    """The manifest of the tree at ``out_dir`` when it ``matches`` and the tree still has its
    kinds, sizes and link targets (``quick_check``); None when the tree must be made anew."""
    if not manifest_path_for(out_dir).is_file() or not out_dir.is_dir():
        return None
    try:
        manifest = load_manifest(out_dir)
    except FixturesError as error:
        logger.info("not reusing %s: %s", out_dir, error)
        return None
    if not matches(manifest):
        return None
    problems = quick_check(out_dir, manifest)
    if problems:
        logger.info("not reusing %s: %s", out_dir, problems[0])
        return None
    return manifest


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


def required_bytes(profile: Profile, scale: float) -> int:
    """Content bytes plus a block per file and a margin: what the room check asks for."""
    files = estimate_file_count(profile, scale)
    return estimate_bytes(profile, scale) + files * BLOCK_OVERHEAD + ROOM_MARGIN


def _check_room(
    profile: Profile, scale: float, out_dir: Path, manifest_path: Path, probe: FreeSpaceProbe
) -> None:
    check_room(out_dir, manifest_path, required_bytes(profile, scale), probe)


def check_room(
    out_dir: Path, manifest_path: Path | None, needed: int, probe: FreeSpaceProbe = disk_free
) -> None:
    """Refuse (``InsufficientSpaceError``) before anything is written when the file system of
    ``out_dir`` has less than ``needed`` bytes free, counting those of the tree it replaces
    (the one ``manifest_path`` describes; None: nothing is replaced), and
    ``NotADirectoryError`` when ``out_dir`` lies under a file: it can never be made."""
    existing = nearest_existing(out_dir)
    free = probe(existing)
    if manifest_path is not None and manifest_path.is_file():  # removed first
        with contextlib.suppress(FixturesError):
            free += load_manifest(out_dir).total_bytes
    if needed > free:
        raise InsufficientSpaceError(str(existing), needed, free)


def nearest_existing(path: Path) -> Path:
    """``path`` or its nearest existing parent; ``NotADirectoryError`` naming ``path`` when
    that parent is not a folder."""
    path = path.absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if existing != path and not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{existing} is not a folder", str(path))
    return existing


def clear_previous(
    out_dir: Path, manifest_path: Path, pending_path: Path, partial_dir: Path, force: bool = False
) -> None:
    """Remove what an earlier run left at ``out_dir``: the tree our manifest (or a
    ``pending_path`` holding one: a run killed while publishing) describes, and
    ``partial_dir`` when ``pending_path`` marks a build of ours as unfinished. Empty folders go
    too. Anything else is refused (``FixturesError``) before anything is removed: a manifest
    or ``.pending`` file fixtures-gen did not write, a non-empty ``out_dir`` no manifest of
    ours describes, and entries inside our tree that its manifest does not list
    (``UnlistedEntriesError``; ``force`` removes them with the tree). Then the folder that
    will hold the tree is made."""
    claimed, described_by = _read_pending(pending_path)
    if manifest_path.exists() or manifest_path.is_symlink():
        described_by = _own_manifest(manifest_path)
    if described_by is None:
        _refuse_foreign(out_dir, "was not made by fixtures-gen (no manifest beside it)")
    else:
        _refuse_unlisted(out_dir, described_by, force)
    if not claimed:
        _refuse_foreign(partial_dir, "was not left by an interrupted fixtures-gen run")
    if partial_dir.exists():
        logger.info("removing interrupted generation %s", partial_dir)
        _remove_any(partial_dir)
    if manifest_path.exists():  # first: a half-removed tree must not look valid, yet stays ours
        os.replace(manifest_path, pending_path)
    if described_by is not None and out_dir.exists():
        logger.info("removing previous tree %s", out_dir)
        _remove_any(out_dir)
    elif out_dir.exists():
        out_dir.rmdir()
    pending_path.unlink(missing_ok=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)


def _own_manifest(path: Path) -> Manifest:
    """The fixtures-gen manifest at ``path``; ``FixturesError`` when the file there is not one
    (it is the user's, or damaged: either way it and its tree are left alone)."""
    try:
        return read_manifest_file(path)
    except FixturesError:
        raise FixturesError(
            f"{path} exists and is not a readable fixtures-gen manifest; it is left as it is: "
            "move it away or choose another output folder"
        ) from None


def _read_pending(path: Path) -> tuple[bool, Manifest | None]:
    """Whether ``path`` (``<manifest>.pending``) claims a build as ours, and the manifest it
    holds when that build got as far as publishing its tree. Anything but an empty file or a
    manifest of ours there is refused."""
    if not (path.exists() or path.is_symlink()):
        return False, None
    if path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
        return True, None
    return True, _own_manifest(path)


def _refuse_unlisted(out_dir: Path, manifest: Manifest, force: bool) -> None:
    """``FixturesError`` when ``out_dir`` is not a plain folder; unless ``force``,
    ``UnlistedEntriesError`` when it holds entries ``manifest`` does not list: someone else's
    files, kept out of harm."""
    if not (out_dir.exists() or out_dir.is_symlink()):
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise FixturesError(
            f"{out_dir} exists and is not a folder fixtures-gen made; remove it or choose "
            "another output folder"
        )
    if force:
        return
    listed = {entry.path for entry in manifest.files}
    unlisted = {e.path: e.kind for e in walk_tree(out_dir) if e.path not in listed}
    shown = [
        path + ("/" if kind == "dir" else "")
        for path, kind in sorted(unlisted.items())
        if posixpath.dirname(path) not in unlisted
    ]
    if shown:
        raise UnlistedEntriesError(out_dir, shown)


def _refuse_foreign(path: Path, why: str) -> None:
    """``FixturesError`` when ``path`` is anything but a missing name or an empty folder."""
    empty_folder = path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    if (path.exists() or path.is_symlink()) and not empty_folder:
        raise FixturesError(f"{path} exists and {why}; remove it or choose another output folder")


def _remove_any(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _write_plan(
    plan: TreePlan, root: Path, progress: bool, max_workers: int | None, label: str
) -> list[ManifestEntry]:
    entries = [ManifestEntry(path=folder, kind="dir") for folder in plan.dirs]
    for folder in plan.dirs:
        (root / folder).mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    lock = threading.Lock()
    workers = max_workers or min(8, (os.cpu_count() or 1) + 1)
    with progress_for(progress, label, unit="B") as bar:
        reporter = ProgressReporter(bar, plan.total_bytes)

        def advance(amount: int) -> None:
            with lock:  # one update at a time: workers report concurrently
                reporter.add(amount)

        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fixtures-gen")
        try:
            futures = [
                executor.submit(_write_file, planned, root, stop, advance) for planned in plan.files
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
            entries.extend(future.result() for future in futures)
        except BaseException:
            stop.set()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
        reporter.finish()

    for link in plan.links:
        os.symlink(link.target, root / link.path)
        entries.append(ManifestEntry(path=link.path, kind="symlink", target=link.target))
        if os.utime in os.supports_follow_symlinks:
            os.utime(root / link.path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    for folder in [*reversed(plan.dirs), ""]:
        os.utime(root / folder, (FIXED_MTIME, FIXED_MTIME))
    return entries


def _write_file(
    planned: PlannedFile, root: Path, stop: threading.Event, advance: Callable[[int], None]
) -> ManifestEntry:
    hasher = hashlib.sha256()
    path = root / planned.path
    with open(path, "wb") as handle:
        for chunk in iter_content(parse_content(planned.content), planned.size, planned.seed):
            if stop.is_set():
                raise FixturesError("generation cancelled")
            hasher.update(chunk)
            handle.write(chunk)
            advance(len(chunk))
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return ManifestEntry(
        path=planned.path, kind="file", size=planned.size, sha256=hasher.hexdigest()
    )
