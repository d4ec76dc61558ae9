"""The ``.meta`` side file is untrusted input: only a regular file of bounded size is read,
its shape and every number are checked before use, and a bad one is ignored with one warning
(extraction, verification and listing of the sound archive beside it go on).

What cannot finish (a FIFO, an endless device) runs in a child with a timeout; what could take
memory (a 200 MB side file, JSON that inflates twenty-fold) runs under an address-space cap.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from capped_child import run_capped

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs import gzip_index
from archive_parallel.metadata import load_metadata, meta_path_for
from archive_parallel.side_file import SideFileError, parse_side_file, read_side_file
from tests.cli_runner import run_cli

MiB = 1 << 20
KIB = 1024
SMALL = dict(
    block_size=64 * KIB,
    gzip_restart_interval=128 * KIB,
    parallel_threshold=1,
    parallel_min_archive_bytes=0,
)


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    """A tar.gz with many index segments and its true side file, and the source tree."""
    root = tmp_path_factory.mktemp("sound")
    src = root / "src"
    src.mkdir()
    for i in range(8):
        (src / f"f{i}.bin").write_bytes((f"line {i} " * 9000).encode() + os.urandom(30_000))
    archive = root / "a.tar.gz"
    ArchiveManager().create_archive(src, archive, ArchiveConfig(**SMALL))
    side = json.loads(meta_path_for(archive).read_text())
    assert len(side["gzip_index"]["segments"]) > 3
    return archive, side, src


def _copy(sound, tmp_path) -> tuple[Path, dict, Path]:
    archive, side, src = sound
    copy = tmp_path / archive.name
    copy.write_bytes(archive.read_bytes())
    meta_path_for(copy).write_bytes(meta_path_for(archive).read_bytes())
    return copy, json.loads(json.dumps(side)), src


def _same_tree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def _all_operations_work(archive: Path, src: Path, dest: Path, config=None) -> None:
    config = ArchiveConfig(**SMALL) if config is None else config
    manager = ArchiveManager(config)
    manager.extract_archive(archive, dest, config)
    assert _same_tree(dest, src)
    assert manager.verify_archive_integrity(archive) is True
    assert len(manager.list_archive(archive)) == len(list(src.iterdir()))


# --- what the side file is ------------------------------------------------------------------
_CHILD = """
import sys, json
from archive_parallel import ArchiveManager, ArchiveConfig
archive, dest = sys.argv[1], sys.argv[2]
manager = ArchiveManager(ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0))
manager.extract_archive(archive, dest)
print(json.dumps([manager.verify_archive_integrity(archive), len(manager.list_archive(archive))]))
"""


def _run_child(archive: Path, dest: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(archive), str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-urandom", "folder", "dangling"])
def test_a_side_file_that_is_not_a_regular_file_is_ignored_without_hanging(sound, tmp_path, kind):
    archive, _, src = _copy(sound, tmp_path)
    meta = meta_path_for(archive)
    meta.unlink()
    if kind == "fifo":
        os.mkfifo(meta)
    elif kind == "folder":
        meta.mkdir()
    elif kind == "dangling":
        meta.symlink_to(tmp_path / "nowhere")
    else:
        meta.symlink_to("/dev/" + kind.split("-")[1])
    done = _run_child(archive, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [True, len(list(src.iterdir()))]
    assert _same_tree(tmp_path / "out", src)
    if kind != "dangling":
        assert "not a regular file" in done.stderr


def test_reading_refuses_non_regular_files_directly(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(SideFileError, match="regular"):
            read_side_file(path, MiB)
    assert read_side_file(tmp_path / "missing", MiB) is None


def test_a_200_mb_side_file_is_not_read(sound, tmp_path):
    archive, _, src = _copy(sound, tmp_path)
    with open(meta_path_for(archive), "r+b") as handle:
        handle.truncate(200 * 1000 * 1000)  # sparse: costs no disk
    outcome = run_capped("extract", archive, tmp_path / "out", SMALL, 48 * MiB)
    assert outcome["outcome"] == "ok", outcome
    assert _same_tree(tmp_path / "out", src)


@pytest.mark.parametrize("limit,size,read", [(1000, 1000, True), (1000, 1001, False)])
def test_the_size_limit_is_exact_and_a_setting(tmp_path, limit, size, read):
    path = tmp_path / "x.meta"
    path.write_bytes(b" " * size)
    if read:
        assert read_side_file(path, limit) == b" " * size
    else:
        with pytest.raises(SideFileError, match="max_side_file_size"):
            read_side_file(path, limit)


def test_the_size_setting_applies_to_extraction(sound, tmp_path, caplog):
    archive, _, src = _copy(sound, tmp_path)
    config = ArchiveConfig(max_side_file_size=100, **SMALL)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        _all_operations_work(archive, src, tmp_path / "out", config)
    assert "max_side_file_size" in caplog.text


# --- what the side file holds ---------------------------------------------------------------
def _hostile_shapes() -> dict[str, bytes]:
    n = 2_000_000
    return {
        "empty-arrays": b"[" + b"[]," * n + b"[]]",
        "empty-objects": b"[" + b"{}," * n + b"{}]",
        "empty-strings": b"[" + b'"",' * n + b'""]',
        "zeros": b"[" + b"0," * n + b"0]",
        "deep-arrays": b"[" * 200_000 + b"]" * 200_000,
        "deep-objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    }


@pytest.mark.parametrize("shape", list(_hostile_shapes()))
def test_json_that_would_take_far_more_memory_than_its_size_is_refused(sound, tmp_path, shape):
    archive, _, src = _copy(sound, tmp_path)
    meta_path_for(archive).write_bytes(_hostile_shapes()[shape])
    outcome = run_capped("extract", archive, tmp_path / "out", SMALL, 96 * MiB)
    assert outcome["outcome"] == "ok", outcome
    assert _same_tree(tmp_path / "out", src)


BAD_NUMBERS = [
    "Infinity",
    "-Infinity",
    "NaN",
    "1e400",
    "1" + "0" * 30,
    "-5",
    "true",
    '"12"',
    "1.5",
    "null",
    "[]",
]


@pytest.mark.parametrize("field", ["file_count", "uncompressed_size", "compressed_size"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_numbers_in_the_size_fields_make_the_side_file_ignored(sound, tmp_path, field, value):
    archive, side, _ = _copy(sound, tmp_path)
    text = json.dumps(side).replace(f'"{field}": {side[field]}', f'"{field}": {value}', 1)
    assert text != json.dumps(side)
    meta_path_for(archive).write_text(text)
    assert load_metadata(archive) is None  # ignored, with a warning; never an exception


@pytest.mark.parametrize(
    "field,value",
    [
        ("checksum_sha256", 5),
        ("checksum_sha256", "zz" * 32),
        ("checksum_md5", ["a"]),
        ("files", "abc"),
        ("files", [1, 2]),
        ("file_checksums", {"a": 5}),
        ("file_checksums", ["a"]),
        ("format", "RAR"),
        ("format", 3),
        ("filename", None),
        ("gzip_index", [1, 2]),
    ],
)
def test_bad_fields_make_the_side_file_ignored(sound, tmp_path, caplog, field, value):
    archive, side, src = _copy(sound, tmp_path)
    side[field] = value
    meta_path_for(archive).write_text(json.dumps(side))
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        _all_operations_work(archive, src, tmp_path / "out")
    assert "ignoring the side file" in caplog.text


def _with_index(sound, tmp_path, change) -> tuple[Path, Path]:
    archive, side, src = _copy(sound, tmp_path)
    change(side["gzip_index"])
    meta_path_for(archive).write_text(json.dumps(side))
    return archive, src


def _set(key, value):
    def change(index):
        index[key] = value

    return change


def _segment(i, j, value):
    def change(index):
        index["segments"][i][j] = value

    return change


def _many_segments(index):
    """More segments than the file has room for (each needs 5 compressed bytes at least)."""
    index["segments"] = [[10 + 7 * i, 100_000 * i, 3_000_000_000] for i in range(200_000)]


def _huge_lengths(index):
    for i, entry in enumerate(index["segments"]):
        entry[1] = i * 10**18


INDEX_CHANGES = {
    "huge-lengths": _huge_lengths,
    "huge-size": _set("uncompressed_size", 10**18),
    "many-segments": _many_segments,
    "string-offset": _segment(1, 0, "100"),
    "float-offset": _segment(1, 0, 100.0),
    "bool-crc": _segment(1, 2, True),
    "short-entry": lambda index: index["segments"][1].pop(),
    "entry-object": lambda index: index["segments"].__setitem__(1, {"a": 1}),
    "negative": _segment(1, 1, -5),
    "crc-range": _segment(1, 2, 1 << 40),
    "no-segments": _set("segments", []),
    "version": _set("version", 2),
    "version-bool": _set("version", True),
}


@pytest.mark.parametrize("change", list(INDEX_CHANGES))
def test_a_bad_gzip_index_is_ignored_cheaply(sound, tmp_path, monkeypatch, caplog, change):
    """Numbers are checked before any CRC-32 is combined: a bad index costs no combination
    (counted) and the archive reads as without an index."""
    archive, src = _with_index(sound, tmp_path, INDEX_CHANGES[change])
    combined = []
    original = gzip_index.crc32_combine
    monkeypatch.setattr(
        gzip_index, "crc32_combine", lambda *args: combined.append(1) or original(*args)
    )
    side = load_metadata(archive)
    assert side is not None and side.gzip_index is not None
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        assert gzip_index.usable_index(str(archive), side.gzip_index) is None
    assert combined == []
    assert "not using the side file's gzip index" in caplog.text
    _all_operations_work(archive, src, tmp_path / "out")


@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e999"])
def test_non_finite_numbers_inside_the_index_do_not_make_the_archive_damaged(
    sound, tmp_path, value
):
    archive, side, src = _copy(sound, tmp_path)
    text = json.dumps(side)
    start = side["gzip_index"]["segments"][1][0]
    text = text.replace(f"[{start}, ", f"[{value}, ", 1)
    meta_path_for(archive).write_text(text)
    _all_operations_work(archive, src, tmp_path / "out")


def test_parse_side_file_accepts_what_the_library_writes(sound):
    archive, side, _ = sound
    assert parse_side_file(meta_path_for(archive).read_bytes()) == side


@pytest.mark.parametrize("command", ["extract", "verify", "list"])
def test_cli_prints_one_line_for_a_bad_side_file(sound, tmp_path, command):
    archive, side, _ = _copy(sound, tmp_path)
    meta_path_for(archive).write_text(json.dumps(side).replace('"file_count": ', '"file_count": -'))
    args = [str(archive)] + ([str(tmp_path / "out")] if command == "extract" else [])
    done = run_cli(command, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "side file" in line]
    assert len(warnings) == (0 if command == "list" else 1), done.stderr  # list reads none


def test_digests_in_upper_case_match(sound, tmp_path):
    """Other tools write hex digests in upper case (PowerShell's Get-FileHash): the same
    digest, so the archive and its files are checked against it and pass."""
    archive, side, src = _copy(sound, tmp_path)
    side["checksum_sha256"] = side["checksum_sha256"].upper()
    side["checksum_md5"] = side["checksum_md5"].upper()
    side["file_checksums"] = {k: v.upper() for k, v in side["file_checksums"].items()}
    meta_path_for(archive).write_text(json.dumps(side))
    assert load_metadata(archive).checksum_sha256 == sound[1]["checksum_sha256"]
    config = ArchiveConfig(**SMALL, recheck_extracted_files=True)
    _all_operations_work(archive, src, tmp_path / "dest", config)


def test_a_wrong_digest_in_upper_case_is_still_wrong(sound, tmp_path):
    from archive_parallel import CorruptArchiveError

    archive, side, _ = _copy(sound, tmp_path)
    side["checksum_sha256"] = ("0" * 64).upper().replace("0", "A", 1)
    meta_path_for(archive).write_text(json.dumps(side))
    with pytest.raises(CorruptArchiveError, match="SHA-256"):
        ArchiveManager().extract_archive(archive, tmp_path / "dest", ArchiveConfig(**SMALL))
    assert not (tmp_path / "dest").exists()


def test_names_full_of_brackets_and_commas_are_text_not_structure(tmp_path):
    """Template folders (``{{a}}/[b]/c,d``) put many brackets in a side file's strings: the
    shape check counts only those outside strings, so the library reads back the side file
    it wrote, with its checksums."""
    folder = tmp_path / "src" / "{{a}}" / "{{b}}" / "[c],[d]" / "{{e}}"
    folder.mkdir(parents=True)
    for i in range(400):
        (folder / f"m{i},{{x}}.py").write_text(str(i))
    archive = tmp_path / "a.tar.gz"
    with ArchiveManager() as manager:
        written = manager.create_archive(
            tmp_path / "src", archive, ArchiveConfig(durable_writes=False)
        )
    raw = meta_path_for(archive).read_bytes()
    assert raw.count(b"{") + raw.count(b"[") > 1024 + len(raw) // 16  # past the plain count
    assert parse_side_file(raw)["checksum_sha256"] == written.checksum_sha256
