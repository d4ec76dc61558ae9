"""Tar headers are bounded before ``tarfile`` reads them: record sizes, chains of extension
headers, sparse maps, global records, and the header work of a whole stream.

Memory bombs (a record declaring or holding a gigabyte) run in a child process under an
address-space cap; the CPU bombs (header floods) assert the error and count the headers
parsed against the bound the settings give, never a duration.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile

import pytest
from capped_child import run_capped
from extract_helpers import Entry, write_archive
from hostile_builders import (
    BLOCK,
    MiB,
    end_blocks,
    header,
    padded,
    pax_records,
    write,
)

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import (
    ArchiveError,
    ArchiveLimitError,
    CorruptArchiveError,
    UnsafeArchiveError,
)
from archive_parallel.formats import CompressionFormat as Fmt
from archive_parallel.read import tar_headers
from tests.cli_runner import run_cli

TAR_FORMATS = [Fmt.TAR, Fmt.TAR_GZ, Fmt.TAR_BZ2, Fmt.TAR_XZ]
SUFFIX = {Fmt.TAR: ".tar", Fmt.TAR_GZ: ".tar.gz", Fmt.TAR_BZ2: ".tar.bz2", Fmt.TAR_XZ: ".tar.xz"}
RECORD_KINDS = {
    "pax": tarfile.XHDTYPE,
    "global": tarfile.XGLTYPE,
    "solaris": tarfile.SOLARIS_XHDTYPE,
    "longname": tarfile.GNUTYPE_LONGNAME,
    "longlink": tarfile.GNUTYPE_LONGLINK,
}
GiB = 1 << 30
HEADROOM = 128 * MiB


def _fid(fmt: Fmt) -> str:
    return fmt.value


def _declared_bomb(path, fmt, kind, declared):
    """Under 1 KB compressed: a record header declaring ``declared`` bytes, a few bytes of it,
    a member, the end."""
    parts = [header("././@Header", kind, declared) + b"20 path=victim.txt\n", end_blocks()]
    return write(path, fmt, parts)


@pytest.mark.parametrize("fmt", TAR_FORMATS, ids=_fid)
@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_record_declaring_a_gigabyte_is_refused_before_it_is_read(tmp_path, fmt, kind):
    archive = _declared_bomb(tmp_path / f"a{SUFFIX[fmt]}", fmt, RECORD_KINDS[kind], GiB)
    assert archive.stat().st_size < 2048
    outcome = run_capped("extract", archive, tmp_path / "out", {}, HEADROOM)
    assert outcome["outcome"] == "ArchiveLimitError", outcome
    assert "max_header_record_size" in outcome["message"]


@pytest.mark.parametrize("fmt", [Fmt.TAR, Fmt.TAR_GZ], ids=_fid)
@pytest.mark.parametrize("kind", ["pax", "longname"])
@pytest.mark.parametrize("op", ["verify", "list"])
def test_verify_and_list_refuse_record_bombs_too(tmp_path, fmt, kind, op):
    archive = _declared_bomb(tmp_path / f"a{SUFFIX[fmt]}", fmt, RECORD_KINDS[kind], 8 * GiB)
    outcome = run_capped(op, archive, None, {}, HEADROOM)
    if op == "verify":
        assert outcome == {"outcome": "ok", "result": False}
    else:
        assert outcome["outcome"] == "ArchiveLimitError", outcome


@pytest.mark.parametrize("fmt", [Fmt.TAR_GZ, Fmt.TAR_BZ2, Fmt.TAR_XZ], ids=_fid)
@pytest.mark.parametrize("kind", ["pax", "longname"])
def test_record_holding_a_gigabyte_of_zeros_is_refused_in_bounded_memory(tmp_path, fmt, kind):
    """The record's bytes are really there (a compressed gigabyte of zeros)."""
    parts = [header("././@Header", RECORD_KINDS[kind], GiB), 1024, header("a.txt"), end_blocks()]
    archive = write(tmp_path / f"a{SUFFIX[fmt]}", fmt, parts)
    assert archive.stat().st_size < 4 * MiB
    for op in ("extract", "list"):
        outcome = run_capped(op, archive, tmp_path / "out", {}, HEADROOM)
        assert outcome["outcome"] == "ArchiveLimitError", outcome


@pytest.mark.parametrize("size", [MiB + 1, 4 * MiB])
def test_record_size_limit_is_a_setting(tmp_path, size):
    record = pax_records({"comment": "x" * size})  # a little over ``size`` bytes
    parts = [header("././@PaxHeader", tarfile.XHDTYPE, len(record)) + padded(record)]
    parts += [header("a.txt"), end_blocks()]
    archive = write(tmp_path / "a.tar", Fmt.TAR, parts)
    with pytest.raises(ArchiveLimitError, match="max_header_record_size"):
        ArchiveManager().extract_archive(archive, tmp_path / "out")
    config = ArchiveConfig(max_header_record_size=8 * MiB)
    ArchiveManager(config).extract_archive(archive, tmp_path / "out", config)
    assert (tmp_path / "out" / "a.txt").exists()


@pytest.mark.parametrize("kind", ["pax", "longname", "longlink", "global"])
@pytest.mark.parametrize("length", [9, 100, 5000])
def test_chains_of_extension_headers_are_refused_not_recursed(tmp_path, kind, length):
    code = RECORD_KINDS[kind]
    record = pax_records({"comment": "c"}) if code in (b"x", b"g") else b"name.txt\0"
    unit = header("././@Header", code, len(record)) + padded(record)
    archive = write(
        tmp_path / "a.tar.gz", Fmt.TAR_GZ, [unit * length, header("a.txt"), end_blocks()]
    )
    manager = ArchiveManager()
    with pytest.raises(ArchiveError) as caught:
        manager.extract_archive(archive, tmp_path / "out")
    assert isinstance(caught.value, CorruptArchiveError)
    assert "in a row" in str(caught.value)
    assert manager.verify_archive_integrity(archive) is False
    with pytest.raises(ArchiveError):
        manager.list_archive(archive)


def test_a_few_extension_headers_before_a_member_are_fine(tmp_path):
    parts = [
        header("././@GlobalHead", tarfile.XGLTYPE, 30) + padded(pax_records({"comment": "git"})),
        header("././@LongLink", tarfile.GNUTYPE_LONGNAME, 9) + padded(b"long.txt\0"),
        header("././@PaxHeader", tarfile.XHDTYPE, 27) + padded(pax_records({"mtime": "1.5"})),
        header("short"),
        end_blocks(),
    ]
    archive = write(tmp_path / "a.tar.gz", Fmt.TAR_GZ, parts)
    manager = ArchiveManager()
    manager.extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "long.txt").exists()
    assert manager.verify_archive_integrity(archive) is True


def _old_gnu_sparse(extended_blocks: int) -> bytes:
    block = bytearray(header("sparse.bin", tarfile.GNUTYPE_SPARSE, 0))
    block[482] = 1  # isextended
    block[148:156] = b" " * 8
    checksum = sum(block)
    block[148:156] = b"%06o\0 " % checksum
    extension = bytearray(BLOCK)
    extension[504] = 1  # another extension block follows, for ever
    return bytes(block) + bytes(extension) * extended_blocks


@pytest.mark.parametrize("fmt", [Fmt.TAR, Fmt.TAR_GZ], ids=_fid)
def test_old_gnu_sparse_headers_are_refused_before_their_map_is_read(tmp_path, fmt):
    if fmt is Fmt.TAR_GZ:  # extension blocks: one, then 64 MiB of zeros (which end the map)
        parts = [_old_gnu_sparse(1), 64, end_blocks()]
    else:
        parts = [_old_gnu_sparse(4), end_blocks()]
    archive = write(tmp_path / f"s{SUFFIX[fmt]}", fmt, parts)
    outcome = run_capped("extract", archive, tmp_path / "out", {}, HEADROOM)
    assert outcome["outcome"] == "UnsafeArchiveError", outcome
    assert "sparse" in outcome["message"]


@pytest.mark.parametrize(
    "records,named",
    [
        (
            {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "real.img"},
            "real.img",
        ),
        ({"GNU.sparse.map": ",".join(["0"] * 20000), "GNU.sparse.size": "9"}, "s"),
        (
            {"GNU.sparse.size": "10", "GNU.sparse.numblocks": "1", "path": "long/p.img"},
            "long/p.img",
        ),
    ],
    ids=["1.0", "0.1", "0.0"],
)
def test_pax_sparse_maps_are_refused_before_tarfile_parses_them(tmp_path, records, named):
    record = pax_records(records)
    map_bomb = b"999999999999\n" + b"0\n" * 1000  # 1.0 map: a number of entries, then entries
    parts = [
        header("././@PaxHeader", tarfile.XHDTYPE, len(record)) + padded(record),
        header("s", tarfile.REGTYPE, len(map_bomb)) + padded(map_bomb),
        16,
        end_blocks(),
    ]
    archive = write(tmp_path / "s.tar.gz", Fmt.TAR_GZ, parts)
    outcome = run_capped("extract", archive, tmp_path / "out", {}, HEADROOM)
    assert outcome["outcome"] == "UnsafeArchiveError", outcome
    assert outcome["message"] == f"unsafe archive member '{named}': sparse files are not supported"


def _gnu_tar_sparse_versions() -> list[str]:
    try:
        help_text = subprocess.run(["tar", "--help"], capture_output=True, text=True).stdout
    except OSError:
        return []
    return ["0.0", "0.1", "1.0"] if "--sparse-version" in help_text else []


@pytest.mark.parametrize("version", _gnu_tar_sparse_versions() or ["none"])
def test_a_sparse_member_from_gnu_tar_is_refused_by_its_name(tmp_path, version):
    """GNU tar ``--format=posix --sparse`` (and bsdtar, unasked, for any file with holes) write
    pax ``GNU.sparse.*`` records; the refusal names the file, not the extended header."""
    if version == "none":
        pytest.skip("needs GNU tar")
    (tmp_path / "src").mkdir()
    with open(tmp_path / "src" / "disk.img", "wb") as handle:
        handle.truncate(1 << 20)
    archive = tmp_path / "s.tar"
    command = ["tar", "--format=posix", "--sparse", f"--sparse-version={version}", "-cf"]
    subprocess.run([*command, str(archive), "-C", str(tmp_path / "src"), "./disk.img"], check=True)
    manager = ArchiveManager()
    with pytest.raises(UnsafeArchiveError) as caught:
        manager.extract_archive(archive, tmp_path / "out")
    assert (caught.value.member, caught.value.reason) == (
        "./disk.img",
        "sparse files are not supported",
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "pax,name,link",
    [
        ({}, "docs/GNU.sparse.notes-é.txt", None),
        ({"SCHILY.xattr.user.note": "see GNU.sparse.map"}, "f", None),
        ({"SCHILY.xattr.user.note": "x\n22 GNU.sparse.major=1\n"}, "f", None),
        ({}, "GNU.sparse." + "y" * 100, "GNU.sparse." + "y" * 100),
    ],
    ids=["name", "xattr", "xattr-like-a-record", "link-target"],
)
def test_pax_text_holding_gnu_sparse_is_no_sparse_member(tmp_path, pax, name, link):
    """Only a record's keyword makes a member sparse, as for ``tarfile`` and GNU tar: the text
    in a name, an extended attribute (even one spelled like a record) or a link target does
    not."""
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.pax_headers = 1, pax
        tar.addfile(info, io.BytesIO(b"x"))
        if link:
            symlink = tarfile.TarInfo("link")
            symlink.type, symlink.linkname = tarfile.SYMTYPE, link
            tar.addfile(symlink)
    ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / name).read_bytes() == b"x"
    assert link is None or os.readlink(tmp_path / "out" / "link") == link


@pytest.mark.parametrize("per_header,headers", [(2000, 1), (200, 6), (20, 60)])
def test_global_records_are_capped_in_total(tmp_path, per_header, headers):
    parts = []
    for i in range(headers):
        record = pax_records([(f"k{i}.{j}", "v") for j in range(per_header)])
        parts.append(header("././@Global", tarfile.XGLTYPE, len(record)) + padded(record))
        parts.append(header(f"f{i}"))
    parts.append(end_blocks())
    archive = write(tmp_path / "g.tar.gz", Fmt.TAR_GZ, parts)
    with pytest.raises(ArchiveLimitError, match="global pax records"):
        ArchiveManager().extract_archive(archive, tmp_path / "out")


# --- header floods: CPU bounded by counting headers ----------------------------------------
class _Guards:
    def __init__(self, monkeypatch):
        self.seen: list[tar_headers.HeaderGuard] = []
        original = tar_headers.HeaderGuard.__init__

        def record(guard, *args, **kwargs):
            original(guard, *args, **kwargs)
            self.seen.append(guard)

        monkeypatch.setattr(tar_headers.HeaderGuard, "__init__", record)

    def max_headers(self) -> int:
        return max(guard.headers for guard in self.seen)


def _bound_in_headers(archive, config: ArchiveConfig | None = None) -> int:
    """Header blocks the settings allow for this archive, plus one for the refused one."""
    config = config or ArchiveConfig()
    budget = max(config.header_check_threshold, config.max_header_ratio * archive.stat().st_size)
    return int(budget // BLOCK) + 1


def _unit(name: str, records: int = 1) -> bytes:
    record = pax_records([("mtime", "1600000000.5")] * records)
    return header("././@PaxHeader", tarfile.XHDTYPE, len(record)) + padded(record) + header(name)


@pytest.mark.parametrize("fmt", [Fmt.TAR_GZ, Fmt.TAR_BZ2, Fmt.TAR_XZ], ids=_fid)
@pytest.mark.parametrize("op", ["verify", "list"])
def test_a_flood_of_pax_headers_is_refused_after_bounded_work(tmp_path, monkeypatch, fmt, op):
    """Hundreds of thousands of pax headers (each before one empty member) in about 1 MB."""
    unit = _unit("same.txt")
    chunk = unit * (MiB // len(unit))
    parts = [chunk] * 200 + [end_blocks()]  # ~200 MiB of headers, ~450,000 units
    archive = write(tmp_path / f"flood{SUFFIX[fmt]}", fmt, parts)
    assert archive.stat().st_size < 2 * MiB
    guards = _Guards(monkeypatch)
    manager = ArchiveManager()
    if op == "verify":
        assert manager.verify_archive_integrity(archive) is False
    else:
        with pytest.raises(ArchiveLimitError, match="max_header_ratio"):
            manager.list_archive(archive)
    assert guards.max_headers() <= _bound_in_headers(archive)


@pytest.mark.parametrize("records", [1, 500])
def test_a_flood_of_distinct_members_is_refused_after_bounded_work(tmp_path, monkeypatch, records):
    """Distinct names (each member is new), or pax headers full of records; a lower
    threshold than the default keeps the test short (the bound scales with it)."""
    count = 30_000 if records == 1 else 2_000
    units = b"".join(_unit(f"d/{i:07d}", records) for i in range(count))
    archive = write(tmp_path / "flood.tar.gz", Fmt.TAR_GZ, [units, end_blocks()])
    config = ArchiveConfig(header_check_threshold=2 * MiB)
    guards = _Guards(monkeypatch)
    with pytest.raises(ArchiveLimitError, match="max_header_ratio"):
        ArchiveManager(config).extract_archive(archive, tmp_path / "out", config)
    assert guards.max_headers() <= _bound_in_headers(archive, config)
    assert not (tmp_path / "out").exists()


def test_the_header_ratio_is_a_setting(tmp_path):
    unit = _unit("same.txt")
    archive = write(tmp_path / "flood.tar.gz", Fmt.TAR_GZ, [unit * 5_000, end_blocks()])
    config = ArchiveConfig(header_check_threshold=256 * 1024)
    with pytest.raises(ArchiveLimitError):
        ArchiveManager(config).list_archive(archive)
    relaxed = ArchiveConfig(header_check_threshold=256 * 1024, max_header_ratio=10_000)
    assert len(ArchiveManager(relaxed).list_archive(archive)) == 5_000


def _content(i: int) -> bytes:
    """A small file's content: a line of text and 128 random-looking bytes as hex."""
    digests = (hashlib.sha256(b"%d-%d" % (i, j)).hexdigest().encode() for j in range(4))
    return b"entry %d\n" % i + b"".join(digests)


@pytest.mark.parametrize("fmt", TAR_FORMATS, ids=_fid)
def test_honest_archives_pass_the_header_checks(tmp_path, fmt):
    """Small files with real content, long names through pax and GNU headers: checked from
    a low threshold on, they stay far below the ratio (real trees: about 0.2 to 1.5)."""
    entries = [Entry(f"dir{i % 50}/f-{i:05d}.txt", data=_content(i)) for i in range(1500)]
    entries += [Entry("long/" + "n" * 200 + f"-{i}.txt", data=b"x") for i in range(200)]
    archive = write_archive(tmp_path / f"honest{SUFFIX[fmt]}", fmt, entries)
    config = ArchiveConfig(header_check_threshold=128 * 1024)
    manager = ArchiveManager(config)
    result = manager.extract_archive(archive, tmp_path / "out", config)
    assert result.file_count == len(entries)
    assert manager.verify_archive_integrity(archive) is True
    assert len(manager.list_archive(archive)) == len(entries)


def test_a_tree_of_empty_files_below_the_threshold_passes(tmp_path):
    entries = [Entry(f"dir{i % 50}/empty-{i:05d}.txt") for i in range(8_000)]
    archive = write_archive(tmp_path / "empty.tar.xz", Fmt.TAR_XZ, entries)
    assert ArchiveManager().verify_archive_integrity(archive) is True
    assert len(ArchiveManager().list_archive(archive)) == len(entries)


def test_system_tar_pax_archives_extract(tmp_path):
    source = tmp_path / "src"
    (source / "d").mkdir(parents=True)
    for i in range(200):
        (source / "d" / (f"{i:03d}-" + "l" * 150)).write_bytes(b"data %d" % i)
    archive = tmp_path / "sys.tar.gz"
    subprocess.run(
        ["tar", "--format=posix", "-czf", str(archive), "-C", str(source), "d"], check=True
    )
    ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert len(list((tmp_path / "out" / "d").iterdir())) == 200


def test_cli_prints_one_line_for_a_header_bomb(tmp_path):
    archive = _declared_bomb(tmp_path / "a.tar", Fmt.TAR, tarfile.XHDTYPE, GiB)
    done = run_cli("extract", archive, tmp_path / "o")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "max_header_record_size" in lines[0]


def test_unsafe_error_types_are_archive_errors():
    assert issubclass(ArchiveLimitError, ArchiveError)
    assert issubclass(UnsafeArchiveError, ArchiveError)


@pytest.mark.parametrize("fmt", [Fmt.TAR_GZ, Fmt.ZIP], ids=_fid)
def test_listing_counts_members_against_max_member_count(tmp_path, fmt):
    entries = [Entry(f"f{i}") for i in range(30)]
    suffix = ".zip" if fmt is Fmt.ZIP else SUFFIX[fmt]
    archive = write_archive(tmp_path / f"a{suffix}", fmt, entries)
    config = ArchiveConfig(max_member_count=10)
    with pytest.raises(ArchiveLimitError, match="max_member_count"):
        ArchiveManager(config).list_archive(archive)
    assert len(ArchiveManager().list_archive(archive)) == 30


@pytest.mark.parametrize(
    "field,value",
    [
        ("max_header_record_size", 0),
        ("max_header_ratio", -1),
        ("max_side_file_size", 0),
        ("header_check_threshold", -5),
    ],
)
def test_bounds_must_be_positive(field, value):
    with pytest.raises(ValueError, match=field):
        ArchiveConfig(**{field: value})
