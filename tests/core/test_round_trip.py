"""Archives round-trip byte for byte through every format, on fixed and random trees."""

from __future__ import annotations

import json
import os
import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archive_parallel
from archive_parallel import ArchiveConfig, ArchiveManager

FORMATS = ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"]


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "sequential"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_sample_tree(manager, sample_tree, tmp_path, snapshot, suffix, parallel):
    cfg = ArchiveConfig(
        enable_parallel_processing=parallel,
        parallel_threshold=2,
        parallel_min_archive_bytes=0,
        thread_pool_size=3,
        parallel_batch_size=4,
    )
    out = tmp_path / f"pkg.{suffix}"
    meta = manager.create_archive(sample_tree, out, cfg)
    assert manager.verify_archive_integrity(out)
    dest = tmp_path / "dest"
    got = manager.extract_archive(out, dest, cfg)
    assert got == meta
    assert snapshot(dest) == snapshot(sample_tree)
    assert os.readlink(dest / "link-to-run") == "run.sh"


@pytest.mark.parametrize("suffix", FORMATS)
def test_extract_without_side_file_builds_metadata(manager, sample_tree, tmp_path, suffix):
    out = tmp_path / f"pkg.{suffix}"
    manager.create_archive(sample_tree, out, ArchiveConfig(include_metadata=False))
    meta = manager.extract_archive(out, tmp_path / "d")
    assert meta.file_count > 0 and meta.files
    assert "dir0/file0.dat" in meta.files


def test_sequential_and_parallel_give_same_members(manager, sample_tree, tmp_path):
    for suffix in FORMATS:
        a = manager.create_archive(
            sample_tree, tmp_path / f"s.{suffix}", ArchiveConfig(enable_parallel_processing=False)
        )
        b = manager.create_archive(
            sample_tree,
            tmp_path / f"p.{suffix}",
            ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0, thread_pool_size=4),
        )
        assert a.files == b.files and a.file_checksums == b.file_checksums
        assert a.uncompressed_size == b.uncompressed_size


@pytest.mark.parametrize("suffix", ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"])
def test_bytes_identical_across_threads_and_batches(manager, sample_tree, tmp_path, suffix):
    digests = set()
    for threads, batch, parallel in [(1, 50, False), (2, 1, True), (4, 7, True), (3, 200, True)]:
        cfg = ArchiveConfig(
            thread_pool_size=threads,
            parallel_batch_size=batch,
            enable_parallel_processing=parallel,
            parallel_threshold=1,
            parallel_min_archive_bytes=0,
            block_size=128 * 1024,
            reproducible=True,
        )
        meta = manager.create_archive(sample_tree, tmp_path / f"{threads}-{batch}.{suffix}", cfg)
        digests.add(meta.checksum_sha256)
    assert len(digests) == 1


def test_reproducible_output_independent_of_mtimes(manager, sample_tree, tmp_path):
    a = manager.create_archive(sample_tree, tmp_path / "a.tar.gz", ArchiveConfig(reproducible=True))
    for p in sample_tree.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.utime(p, (1_000_000, 1_000_000))
    b = manager.create_archive(sample_tree, tmp_path / "b.tar.gz", ArchiveConfig(reproducible=True))
    assert a.checksum_sha256 == b.checksum_sha256


# ---------------------------------------------------------------- property test
_NAME_CHARS = string.ascii_letters + string.digits + "-_ .éü漢字"
names = st.text(alphabet=_NAME_CHARS, min_size=1, max_size=12).filter(
    lambda s: s.strip(" .") == s and s not in (".", "..")
)


@st.composite
def trees(draw):
    """A random tree description: {relative path: bytes | None (folder) | ('link', target)}."""
    layout: dict[str, object] = {}
    folders = [""]
    for _ in range(draw(st.integers(1, 14))):
        parent = draw(st.sampled_from(folders))
        name = draw(names)
        if draw(st.booleans()) and len(parent) < 60:
            name = name + "-" + "n" * draw(st.integers(0, 110))  # long names over 100 bytes
        path = f"{parent}/{name}" if parent else name
        if any(
            existing.lower() == path.lower()
            or existing.lower().startswith(path.lower() + "/")
            or path.lower().startswith(existing.lower() + "/")
            for existing in layout
        ):
            continue
        kind = draw(st.sampled_from(["file", "file", "file", "dir", "link"]))
        if kind == "dir":
            layout[path] = None
            folders.append(path)
        elif kind == "link" and any(isinstance(v, bytes) for v in layout.values()):
            target = draw(
                st.sampled_from(sorted(k for k, v in layout.items() if isinstance(v, bytes)))
            )
            layout[path] = ("link", os.path.relpath(target, parent or "."))
        else:
            size = draw(st.sampled_from([0, 1, 511, 512, 513, 5000, 70_000, 300_000]))
            seed = draw(st.integers(0, 2**16))
            rng = random.Random(seed)
            data = rng.randbytes(size // 2) + b"a" * (size - size // 2)
            layout[path] = data
    return layout


def _materialise(root: Path, layout: dict, mode_seed: int) -> None:
    root.mkdir()
    rng = random.Random(mode_seed)
    for path, value in layout.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if value is None:
            target.mkdir(exist_ok=True)
        elif isinstance(value, tuple):
            os.symlink(value[1], target)
        else:
            target.write_bytes(value)
            os.chmod(target, rng.choice([0o644, 0o600, 0o755, 0o444]))
            mtime = rng.randint(1_000_000_000, 1_900_000_000)
            os.utime(target, (mtime, mtime))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=trees(),
    suffix=st.sampled_from(FORMATS),
    parallel=st.booleans(),
    mode_seed=st.integers(0, 1000),
)
def test_property_round_trip(tmp_path_factory, snapshot, layout, suffix, parallel, mode_seed):
    base = tmp_path_factory.mktemp("prop")
    src = base / "src"
    _materialise(src, layout, mode_seed)
    cfg = ArchiveConfig(
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        thread_pool_size=2,
        parallel_batch_size=3,
    )
    with ArchiveManager() as m:
        out = base / f"a.{suffix}"
        m.create_archive(src, out, cfg)
        m.extract_archive(out, base / "dest", cfg)
    assert snapshot(base / "dest") == snapshot(src)


def test_reproducible_zip_does_not_depend_on_time_zone(sample_tree, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from archive_parallel import ArchiveManager, ArchiveConfig;"
        "m = ArchiveManager().create_archive(sys.argv[1], sys.argv[2],"
        " ArchiveConfig(reproducible=True, reproducible_mtime=1700000000));"
        "print(m.checksum_sha256)"
    )
    digests = set()
    for tz in ("UTC", "America/New_York", "Asia/Tokyo"):
        env = dict(os.environ, TZ=tz, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(sample_tree),
                str(tmp_path / f"{tz.replace('/', '_')}.zip"),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize(
    "real,fake",
    [
        ("tar.gz", "zip"),
        ("zip", "tar.gz"),
        ("tar.xz", "tgz"),
        ("tar.bz2", "tar"),
        ("tar", "tar.gz"),
    ],
)
def test_format_from_magic_bytes_when_the_name_lies(
    manager, sample_tree, tmp_path, snapshot, real, fake
):
    made = tmp_path / f"pkg.{real}"
    manager.create_archive(sample_tree, made, ArchiveConfig(include_metadata=False))
    liar = made.rename(tmp_path / f"liar.{fake}")
    assert manager.verify_archive_integrity(liar)
    assert {m.name.rstrip("/") for m in manager.list_archive(liar)} >= {"dir0/file0.dat"}
    manager.extract_archive(liar, tmp_path / "dest")
    assert snapshot(tmp_path / "dest") == snapshot(sample_tree)


@pytest.mark.parametrize("parallel", [True, False])
def test_replaced_archive_is_refused_before_anything_lands(
    manager, sample_tree, tmp_path, parallel
):
    """An archive swapped for another after its side file was written: every member is sound,
    but the archive's SHA-256 no longer matches, so nothing may reach the destination."""
    out = tmp_path / "a.tar.gz"
    manager.create_archive(sample_tree, out)
    side = out.with_name("a.tar.gz.meta").read_bytes()
    (sample_tree / "dir0" / "file0.dat").write_bytes(b"changed")
    manager.create_archive(sample_tree, out)
    out.with_name("a.tar.gz.meta").write_bytes(side)
    dest = tmp_path / "dest"
    cfg = ArchiveConfig(
        enable_parallel_processing=parallel, parallel_threshold=1, parallel_min_archive_bytes=0
    )
    with pytest.raises(archive_parallel.CorruptArchiveError, match="SHA-256"):
        manager.extract_archive(out, dest, cfg)
    assert not dest.exists()


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_per_file_checksums_run_only_when_the_archive_checksum_cannot(
    manager, sample_tree, tmp_path, suffix
):
    """The archive's SHA-256 covers every byte, so a wrong per-file entry in the side file is
    not re-checked by default; ``recheck_extracted_files`` re-checks, and a side file without
    an archive checksum falls back to the per-file check."""
    out = tmp_path / f"a.{suffix}"
    manager.create_archive(sample_tree, out)
    side = out.with_name(out.name + ".meta")
    data = json.loads(side.read_text())
    data["file_checksums"]["big.bin"] = "0" * 64
    side.write_text(json.dumps(data))
    manager.extract_archive(out, tmp_path / "default")
    assert (tmp_path / "default" / "big.bin").read_bytes() == (sample_tree / "big.bin").read_bytes()
    for name, cfg, meta in (
        ("recheck", ArchiveConfig(recheck_extracted_files=True), data),
        ("no-archive-sum", ArchiveConfig(), {**data, "checksum_sha256": None}),
    ):
        side.write_text(json.dumps(meta))
        with pytest.raises(archive_parallel.ChecksumMismatchError, match="big.bin"):
            manager.extract_archive(out, tmp_path / name, cfg)
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("verify", [True, False])
def test_damaged_zip_member_is_refused_with_or_without_the_archive_checksum(
    manager, sample_tree, tmp_path, verify
):
    """With the side file's SHA-256 checked, member CRC-32s are skipped (that hash covers
    every byte); without it, the CRC-32 finds the same damage. Nothing lands either way."""
    out = tmp_path / "a.zip"
    manager.create_archive(sample_tree, out)
    data = bytearray(out.read_bytes())
    payload = (sample_tree / "big.bin").read_bytes()
    at = bytes(data).find(payload[:64])  # big.bin is random, so it is stored as is
    assert at > 0
    data[at + 1000] ^= 0x10
    out.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    cfg = ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0)
    with pytest.raises(archive_parallel.CorruptArchiveError):
        manager.extract_archive(out, dest, cfg, verify_integrity=verify)
    assert not dest.exists()
