"""Benchmark cases: one operation under one configuration, with reset, run and verify.

A case is built from a cell spec (the cell plus the paths of its workload) inside a worker
process. ``reset()`` removes the previous output and is never timed; ``run()`` is the timed
operation; ``verify()`` checks the last output and returns why it is wrong, or None.

Variants: ``parallel`` and ``sequential`` call the library (ArchiveManager with or without
parallel processing); ``reference`` is a plain loop written the way the old sequential class
worked (rglob walk, ``tarfile.add`` / ``ZipFile.write`` per file, the archive's SHA-256 and MD5
and a ``.meta`` file, ``extractall(filter="data")``, hashlib per file); ``pigz`` pipes
``tar cf -`` into ``pigz -p N -6``. Created archives are verified by reading every member
with the standard library and comparing names and SHA-256 with the fixture manifest (in
memory: writing a verification tree costs more than the operation on slow storage);
extractions are compared with the manifest; checksums and walks with the reference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from archive_parallel.config import DEFAULT_EXCLUDE_PATTERNS, ArchiveConfig
from bench.codec_axes import base_format, library_backends, tarfile_for

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
#: the bench archives every fixture file, whatever its size
NO_SIZE_LIMIT = 1 << 50
TAR_MODES = {"tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz", "tar": "w", "tar.zst": "w:zst"}


def library_config(cell: dict[str, Any]) -> ArchiveConfig:
    """The ArchiveConfig of a library cell (parallel or sequential).

    Flushing to the medium is off: the old way never flushed, so the cells compare the same
    work; what durable writes add is measured on its own (``python -m bench.durability``)."""
    parallel = cell["variant"] == "parallel"
    return ArchiveConfig(
        thread_pool_size=max(1, int(cell["threads"])),
        parallel_batch_size=max(1, int(cell["batch_size"]) or 50),
        enable_parallel_processing=parallel,
        parallel_threshold=1 if parallel else 20,
        max_file_size=NO_SIZE_LIMIT,
        durable_writes=False,
        **library_backends(cell),
    )


def excluded(path: Path) -> bool:
    return path.name in DEFAULT_EXCLUDE_PATTERNS


def reference_walk(src: Path) -> list[Path]:
    """The old class's walk: rglob, keep regular files not excluded."""
    return [p for p in src.rglob("*") if p.is_file() and not p.is_symlink() and not excluded(p)]


def hash_file(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), md5.hexdigest()


def reference_create(src: Path, out: Path, fmt: str, level: int = 6) -> None:
    """Create like the old class: walk, add file by file, hash the archive, write .meta."""
    files = reference_walk(src)
    if fmt == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
            for path in files:
                zf.write(path, path.relative_to(src).as_posix())
    else:
        kwargs = {"compresslevel": level} if fmt in ("tar.gz", "tar.bz2") else {}
        with tarfile_for(fmt).open(out, TAR_MODES[fmt], **kwargs) as tar:
            for path in files:
                tar.add(path, path.relative_to(src).as_posix())
    sha, md5 = hash_file(out)
    meta = {
        "filename": out.name,
        "file_count": len(files),
        "compressed_size": out.stat().st_size,
        "checksum_sha256": sha,
        "checksum_md5": md5,
        "files": [p.relative_to(src).as_posix() for p in files],
    }
    Path(f"{out}.meta").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def reference_extract(archive: Path, dest: Path, fmt: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile_for(fmt).open(archive, "r:*") as tar:
            tar.extractall(dest, filter="data")


def reference_verify(archive: Path, fmt: str) -> bool:
    """Read every member through, as an integrity check would."""
    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            return zf.testzip() is None
    with tarfile_for(fmt).open(archive, "r:*") as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    while handle.read(CHUNK):
                        pass
    return True


def pigz_create(src: Path, out: Path, threads: int) -> None:
    """``tar cf - -C SRC . | pigz -p N -6 > out``."""
    with open(out, "wb") as sink:
        tar = subprocess.Popen(["tar", "cf", "-", "-C", str(src), "."], stdout=subprocess.PIPE)
        try:
            pigz = subprocess.run(
                ["pigz", "-p", str(threads), "-6"], stdin=tar.stdout, stdout=sink, check=False
            )
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar_rc = tar.wait()
    if tar_rc != 0 or pigz.returncode != 0:
        raise RuntimeError(f"tar|pigz failed (tar {tar_rc}, pigz {pigz.returncode})")


def verify_tree_against_manifest(tree: Path, manifest_dir: Path) -> str | None:
    """None when ``tree`` matches the fixture manifest of ``manifest_dir``, else why not."""
    import fixtures_gen

    manifest = fixtures_gen.load_manifest(manifest_dir)
    # archives hold regular files only: empty folders and links are not compared
    report = fixtures_gen.verify_tree(
        tree, manifest, ignore_patterns=tuple(DEFAULT_EXCLUDE_PATTERNS), kinds=("file",)
    )
    if report.ok:
        return None
    # a zip stores a link as a small member; unpacked the old way it is a regular file in the
    # link's place (the package tree has links): that is the format, not a wrong output
    links = {f"extra: {e.path}" for e in manifest.files if e.kind != "file"}
    problems = [p for p in report.problems if str(p) not in links]
    if not problems:
        return None
    return f"{len(problems)} problem(s): " + "; ".join(str(p) for p in problems[:3])


def expected_files(manifest_dir: Path) -> dict[str, str]:
    """relative path -> sha256 of the manifest's regular files (excluded names dropped)."""
    import fixtures_gen

    manifest = fixtures_gen.load_manifest(manifest_dir)
    return {
        e.path: e.sha256
        for e in manifest.files
        if e.kind == "file" and PurePosixPath(e.path).name not in DEFAULT_EXCLUDE_PATTERNS
    }


def archive_file_digests(archive: Path, fmt: str) -> dict[str, str]:
    """member name -> sha256 of every regular file in ``archive``, read with the standard
    library straight from the archive (nothing written to disk)."""
    digests: dict[str, str] = {}

    def add(name: str, handle) -> None:
        name = name[2:] if name.startswith("./") else name
        if name in digests:
            raise ValueError(f"member {name!r} appears twice")
        sha = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
        digests[name] = sha.hexdigest()

    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and (info.external_attr >> 28) != 0o12:  # not a symlink
                    with zf.open(info) as handle:
                        add(info.filename, handle)
    else:
        with tarfile_for(fmt).open(archive, "r:*") as tar:
            for member in tar:
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        add(member.name, handle)
    return digests


def verify_archive_output(archive: Path, fmt: str, manifest_dir: Path) -> str | None:
    """Read ``archive`` with the standard library and compare its files with the manifest."""
    if not archive.is_file():
        return f"no archive at {archive.name}"
    try:
        got = archive_file_digests(archive, fmt)
    except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        return f"archive unreadable by the standard library: {exc}"
    expected = expected_files(manifest_dir)
    if got == expected:
        return None
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
    return (
        f"archive differs from the manifest: {len(missing)} missing, {len(extra)} unexpected, "
        f"{len(wrong)} with other content (e.g. {(missing + extra + wrong)[:3]})"
    )


class Case:
    """One cell's operation; see the module docstring for the protocol."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.cell = spec["cell"]
        self.op = self.cell["operation"]
        self.fmt = base_format(self.cell["format"])
        self.variant = self.cell["variant"]
        self.tree = Path(spec["tree"])
        self.scratch = Path(spec["scratch"])
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.input_archive = Path(spec["input_archive"]) if spec.get("input_archive") else None
        suffix = self.fmt or "out"
        self.out = self.scratch / f"out.{suffix}"
        self.dest = self.scratch / "extracted"
        self.result: Any = None
        self.manager: Any = None
        self.config: ArchiveConfig | None = None
        self.paths: list[Path] = []
        if self.variant in ("parallel", "sequential"):
            from archive_parallel import ArchiveManager

            self.manager = ArchiveManager()
            self.config = library_config(self.cell)
        if self.op == "checksum":
            self.paths = sorted(reference_walk(self.tree))
        self._run: Callable[[], Any] = self._pick()

    def _pick(self) -> Callable[[], Any]:
        op, variant, m, cfg = self.op, self.variant, self.manager, self.config
        if variant == "pigz":
            return lambda: pigz_create(self.tree, self.out, int(self.cell["threads"]))
        if op == "create":
            if m is not None:
                return lambda: m.create_archive(self.tree, self.out, cfg)
            return lambda: reference_create(self.tree, self.out, self.fmt)
        if op == "extract":
            if m is not None:
                return lambda: m.extract_archive(self.input_archive, self.dest, cfg)
            return lambda: reference_extract(self.input_archive, self.dest, self.fmt)
        if op == "verify":
            if m is not None:
                return lambda: m.verify_archive_integrity(self.input_archive)
            return lambda: reference_verify(self.input_archive, self.fmt)
        if op == "checksum":
            if m is not None:
                return lambda: m.calculate_checksums(self.paths, cfg)
            return lambda: {p: hash_file(p) for p in self.paths}
        if op == "walk":
            if m is not None:
                return lambda: m._collect_files(self.tree, cfg)
            return lambda: reference_walk(self.tree)
        raise ValueError(f"unknown operation {op!r}")

    def reset(self) -> None:
        """Remove the previous output (not timed)."""
        if self.op == "create":
            self.out.unlink(missing_ok=True)
            Path(f"{self.out}.meta").unlink(missing_ok=True)
        elif self.op == "extract":
            shutil.rmtree(self.dest, ignore_errors=True)
        self.result = None

    def run(self) -> None:
        self.result = self._run()

    def output_bytes(self) -> int | None:
        if self.op == "create" and self.out.is_file():
            return self.out.stat().st_size
        return None

    def verify(self) -> str | None:
        """Why the last output is wrong, or None when it is right."""
        manifest_dir = self.tree
        if self.op == "create":
            return verify_archive_output(self.out, self.fmt, manifest_dir)
        if self.op == "extract":
            return verify_tree_against_manifest(self.dest, manifest_dir)
        if self.op == "verify":
            return None if self.result else "integrity check rejected a sound archive"
        if self.op == "checksum":
            expected = {p: hash_file(p) for p in self.paths}
            got = {Path(k): tuple(v) for k, v in dict(self.result or {}).items()}
            if got != expected:
                wrong = [str(p) for p in expected if got.get(p) != expected[p]]
                return f"{len(wrong)} wrong or missing checksum(s), e.g. {wrong[:2]}"
            return None
        if self.op == "walk":
            expected_files = {p.relative_to(self.tree) for p in reference_walk(self.tree)}
            got_files = {Path(p).relative_to(self.tree) for p in (self.result or [])}
            if got_files != expected_files:
                return (
                    f"walk found {len(got_files)} files, expected {len(expected_files)} "
                    f"({len(expected_files ^ got_files)} differ)"
                )
            return None
        return None

    def close(self) -> None:
        if self.manager is not None:
            close = getattr(self.manager, "close", None) or self.manager.cleanup_thread_pool
            close()
