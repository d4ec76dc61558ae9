"""Reading tar header blocks: the fast parser gives ``tarfile``'s answer for every block.

``BoundedTarInfo.frombuf`` (``read.ustar_block.parse_block`` first, ``tarfile`` for what it
declines) is compared with ``tarfile.TarInfo.frombuf`` on headers written by ``tarfile`` in
its three formats, on the same headers with bytes changed (checksum fixed or not), and on the
odd blocks by hand: the result's fields, or the class of the error, must be the same. Newer
``tarfile`` releases read headers through ``_frombuf`` with ``dircheck``; a child process
gives an older ``tarfile`` that shape to check the parser's other entry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel.read.tar_headers import BoundedTarInfo
from archive_parallel.read.ustar_block import parse_block

ENCODING, ERRORS = "utf-8", "surrogateescape"
FIELDS = (
    "name",
    "mode",
    "uid",
    "gid",
    "size",
    "mtime",
    "chksum",
    "type",
    "linkname",
    "uname",
    "gname",
    "devmajor",
    "devminor",
    "_sparse_structs",
)


def _outcome(parse, block: bytes) -> tuple:
    try:
        info = parse(block, ENCODING, ERRORS)
    except Exception as exc:  # noqa: BLE001 - the class of the error is what is compared
        return ("error", type(exc))
    return tuple(getattr(info, field, None) for field in FIELDS)


def _assert_same(block: bytes) -> None:
    assert _outcome(BoundedTarInfo.frombuf, block) == _outcome(tarfile.TarInfo.frombuf, block)


def _with_checksum(block: bytes | bytearray) -> bytes:
    """``block`` with its checksum field set to the unsigned sum, as tar writes it."""
    data = bytearray(block)
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data)
    return bytes(data)


KINDS = (
    tarfile.REGTYPE,
    tarfile.AREGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.FIFOTYPE,
    tarfile.CONTTYPE,
)
names = st.text(
    st.characters(min_codepoint=1, max_codepoint=0x2FFF, exclude_categories=("Cs",)),
    min_size=1,
    max_size=240,
)


@st.composite
def header_blocks(draw) -> bytes:
    info = tarfile.TarInfo(draw(names))
    info.type = draw(st.sampled_from(KINDS))
    if info.type in (tarfile.DIRTYPE, tarfile.AREGTYPE) and draw(st.booleans()):
        info.name += "/"
    info.size = draw(st.one_of(st.integers(0, 10**7), st.integers(8**11 - 2, 8**11 + 3)))
    info.mode = draw(st.integers(0, 0o7777))
    info.mtime = draw(st.one_of(st.integers(0, 2**33), st.integers(-(2**20), -1)))
    info.uid = draw(st.one_of(st.integers(0, 70000), st.integers(8**7 - 2, 8**7 + 2)))
    info.gid = draw(st.integers(0, 70000))
    info.uname = draw(st.text(max_size=40))
    info.gname = draw(st.text(max_size=40))
    info.linkname = draw(st.text(max_size=120))
    info.devmajor = draw(st.integers(0, 300))
    info.devminor = draw(st.integers(0, 300))
    fmt = draw(st.sampled_from((tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT)))
    try:
        data = info.tobuf(fmt, ENCODING, ERRORS)
    except ValueError:  # a name or number this format cannot hold
        data = info.tobuf(tarfile.PAX_FORMAT, ENCODING, ERRORS)
    # the last header block (a long name or pax record comes before it) describes the member
    return data[-tarfile.BLOCKSIZE :] if len(data) % tarfile.BLOCKSIZE == 0 else data


@settings(max_examples=400, deadline=None)
@given(block=header_blocks())
def test_written_headers_parse_as_tarfile_parses_them(block):
    _assert_same(block)


@settings(max_examples=400, deadline=None)
@given(
    block=header_blocks(),
    changes=st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), min_size=1, max_size=4),
    fix_checksum=st.booleans(),
)
def test_changed_headers_parse_or_fail_as_tarfile_does(block, changes, fix_checksum):
    data = bytearray(block)
    for offset, value in changes:
        data[offset] = value
    _assert_same(_with_checksum(data) if fix_checksum else bytes(data))


def test_an_ordinary_header_takes_the_fast_way():
    info = tarfile.TarInfo("src/app/main.py")
    info.size, info.mode, info.mtime, info.uname = 1234, 0o644, 1_700_000_000, "pi"
    block = info.tobuf(tarfile.PAX_FORMAT, ENCODING, ERRORS)
    parsed = parse_block(tarfile.TarInfo, block, ENCODING, ERRORS)
    assert parsed is not None
    assert (parsed.name, parsed.size, parsed.mode, parsed.mtime, parsed.uname) == (
        "src/app/main.py",
        1234,
        0o644,
        1_700_000_000,
        "pi",
    )


def _ordinary_block(**changes: object) -> bytes:
    info = tarfile.TarInfo("dir/file.txt")
    info.size = 10
    for name, value in changes.items():
        setattr(info, name, value)
    return info.tobuf(tarfile.USTAR_FORMAT, ENCODING, ERRORS)


def _gnu_block(**changes: object) -> bytes:
    info = tarfile.TarInfo("big.bin")
    for name, value in changes.items():
        setattr(info, name, value)
    return info.tobuf(tarfile.GNU_FORMAT, ENCODING, ERRORS)


def _signed_checksum(block: bytes) -> bytes:
    data = bytearray(block)
    data[148:156] = b" " * 8
    signed = sum(b - 256 if b > 127 else b for b in data)
    data[148:156] = b"%06o\0 " % signed
    return bytes(data)


ODD_BLOCKS = {
    "empty": b"",
    "short": _ordinary_block()[:300],
    "end of archive": bytes(tarfile.BLOCKSIZE),
    "bad checksum": _ordinary_block()[:148] + b"0000000\0" + _ordinary_block()[156:],
    "signed checksum (old Sun tar)": _signed_checksum(_ordinary_block(uname="j\xe9r\xf4me")),
    "base-256 size (GNU)": _gnu_block(size=8**11 + 5),
    "negative mtime (GNU)": _gnu_block(mtime=-5),
    "spaces around numbers": _with_checksum(
        _ordinary_block()[:100] + b" 000644 " + _ordinary_block()[108:]
    ),
    "blank number": _with_checksum(_ordinary_block()[:100] + b"        " + _ordinary_block()[108:]),
    "number with no NUL": _with_checksum(
        _ordinary_block()[:100] + b"00000644" + _ordinary_block()[108:]
    ),
    "not a number": _with_checksum(
        _ordinary_block()[:100] + b"0000x44\0" + _ordinary_block()[108:]
    ),
    "old directory (V7)": _with_checksum(
        b"old/dir/".ljust(100, b"\0") + _ordinary_block()[100:156] + b"\0" + _ordinary_block()[157:]
    ),
    "ustar prefix": _ordinary_block(name="p" * 120 + "/file"),
    "old GNU sparse": _with_checksum(_ordinary_block()[:156] + b"S" + _ordinary_block()[157:]),
}


@pytest.mark.parametrize("block", ODD_BLOCKS.values(), ids=ODD_BLOCKS.keys())
def test_odd_blocks_parse_or_fail_as_tarfile_does(block):
    _assert_same(block)


# tarfile from mid-2025 on reads every header through ``TarInfo._frombuf(..., dircheck=...)``
# (False for the header after an extended one) and ``frombuf`` only wraps it. Python here may
# predate that, so a child process gives tarfile that shape first, then imports the library.
NEWER_TARFILE = """
import io, sys, tarfile

older = tarfile.TarInfo.frombuf.__func__

def _frombuf(cls, buf, encoding, errors, *, dircheck=True):
    info = older(cls, buf, encoding, errors)
    name = tarfile.nts(buf[0:100], encoding, errors) if len(buf) == 512 else ""
    if not dircheck and buf[156:157] == tarfile.AREGTYPE and name.endswith("/"):
        prefix = tarfile.nts(buf[345:500], encoding, errors)
        info.type, info.name = tarfile.AREGTYPE, (prefix + "/" + name if prefix else name)
    return info

def _fromtarfile(cls, archive, *, dircheck=True):
    block = archive.fileobj.read(tarfile.BLOCKSIZE)
    info = cls._frombuf(block, archive.encoding, archive.errors, dircheck=dircheck)
    info.offset = archive.fileobj.tell() - tarfile.BLOCKSIZE
    return info._proc_member(archive)

tarfile.TarInfo._frombuf = classmethod(_frombuf)
tarfile.TarInfo.frombuf = classmethod(lambda cls, b, e, r: cls._frombuf(b, e, r))
tarfile.TarInfo._fromtarfile = classmethod(_fromtarfile)
tarfile.TarInfo.fromtarfile = classmethod(lambda cls, archive: cls._fromtarfile(archive))

from archive_parallel.formats import CompressionFormat
from archive_parallel.read.tar_headers import BoundedTarInfo
from archive_parallel.read.tar_stream import TarStream

assert "_frombuf" in BoundedTarInfo.__dict__ and "frombuf" not in BoundedTarInfo.__dict__
FIELDS = ("name", "mode", "size", "mtime", "chksum", "type", "linkname", "uname")

def outcome(parse, block, **options):
    try:
        info = parse(block, "utf-8", "surrogateescape", **options)
    except Exception as exc:
        return type(exc)
    return tuple(getattr(info, field, None) for field in FIELDS)

blocks = [b"", bytes(512)]
for name, kind in (("a/b.txt", tarfile.REGTYPE), ("old/dir/", tarfile.AREGTYPE),
                   ("d", tarfile.DIRTYPE), ("p" * 120 + "/x/", tarfile.AREGTYPE)):
    info = tarfile.TarInfo(name)
    info.type = kind
    blocks.append(info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape"))
blocks.append(blocks[2][:300])
for block in blocks:
    for dircheck in (True, False):
        assert outcome(BoundedTarInfo._frombuf, block, dircheck=dircheck) == outcome(
            tarfile.TarInfo._frombuf, block, dircheck=dircheck), (block[:12], dircheck)

path = sys.argv[1]
with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
    for name, data in (("short.txt", b"hello"), ("L" * 150 + ".txt", b"a long name")):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
with TarStream(path, CompressionFormat.TAR, None) as stream:
    read = [(m.name, bytes(stream.extractfile(m).read(m.size))) for m in stream.members()]
    stream.finish()
assert read == [("short.txt", b"hello"), ("L" * 150 + ".txt", b"a long name")], read
print("ok")
"""


def test_newer_tarfile_reads_headers_through_the_fast_parser_too(tmp_path):
    script = tmp_path / "newer_tarfile.py"
    script.write_text(NEWER_TARFILE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "gnu.tar")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_header_after_an_extended_one_keeps_its_trailing_slash():
    """``dircheck=False``: an old-style regular file whose name ends in ``/`` stays a file
    when it follows an extended header, as newer ``tarfile`` reads it."""
    info = tarfile.TarInfo("old/dir/")
    info.type = tarfile.AREGTYPE
    block = info.tobuf(tarfile.USTAR_FORMAT, ENCODING, ERRORS)
    as_folder = parse_block(tarfile.TarInfo, block, ENCODING, ERRORS)
    as_named = parse_block(tarfile.TarInfo, block, ENCODING, ERRORS, dircheck=False)
    assert (as_folder.type, as_folder.name) == (tarfile.DIRTYPE, "old/dir")
    assert (as_named.type, as_named.name) == (tarfile.AREGTYPE, "old/dir/")
