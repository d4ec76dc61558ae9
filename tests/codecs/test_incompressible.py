"""Pieces that do not compress are stored (or run-length coded), never searched for matches,
and the stream they make is ordinary deflate of the same size as plain zlib's."""

import subprocess
import zipfile
import zlib

import pytest
from codecs_testdata import random_bytes, require_tool, text_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs import zip_writer
from archive_parallel.codecs.backend import IsalDeflate, available_backends, deflate_module
from archive_parallel.codecs.deflate_blocks import compress_block
from archive_parallel.codecs.incompressible import (
    PIECE_SIZE,
    REFINE_SIZE,
    SAMPLE_SIZE,
    SAMPLE_STEP,
    PieceKind,
    deflate_runs,
    looks_incompressible,
    piece_runs,
    sorts_pieces,
)
from archive_parallel.entries import EntryKind, FileEntry
from archive_parallel.source_reader import LoadedFile

TEXT = text_bytes(600_000)
NOISE = random_bytes(600_000)


def inflate(raw: bytes, dictionary: bytes = b"") -> bytes:
    inflater = zlib.decompressobj(-15, zdict=dictionary) if dictionary else zlib.decompressobj(-15)
    out = inflater.decompress(raw) + inflater.flush()
    assert inflater.eof and not inflater.unused_data
    return out


def plain(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def kinds(data: bytes) -> list[tuple[int, int, PieceKind]]:
    return [(run.start, run.end, run.kind) for run in piece_runs(data)]


def test_samples_tell_random_from_text_and_binary():
    assert looks_incompressible(NOISE[:PIECE_SIZE])
    assert not looks_incompressible(TEXT[:PIECE_SIZE])
    # random bytes over a small alphabet: no matches to find, but Huffman codes shrink them
    assert not looks_incompressible(bytes(b % 16 for b in NOISE[:PIECE_SIZE]))
    assert not looks_incompressible(NOISE[:1000])  # too short to judge: deflated


def test_compressible_input_gives_plain_zlib_bytes():
    assert kinds(TEXT) == [(0, len(TEXT), PieceKind.DEFLATE)]
    assert deflate_runs(zlib, 6, TEXT, None, True) == plain(TEXT)


def test_random_input_is_stored_at_no_size_cost():
    assert kinds(NOISE) == [(0, len(NOISE), PieceKind.STORE)]
    got = deflate_runs(zlib, 6, NOISE, None, True)
    assert inflate(got) == NOISE
    assert len(got) <= len(plain(NOISE))


def test_zero_runs_in_random_input_are_run_length_coded():
    padded = NOISE[:100_000] + bytes(512) + NOISE[100_000:196_096]
    assert kinds(padded) == [
        (0, PIECE_SIZE, PieceKind.STORE),
        (PIECE_SIZE, 2 * PIECE_SIZE, PieceKind.RUN_LENGTH),
        (2 * PIECE_SIZE, len(padded), PieceKind.STORE),
    ]
    got = deflate_runs(zlib, 6, padded, None, True)
    assert inflate(got) == padded
    assert len(got) <= len(plain(padded))


@pytest.mark.parametrize("edge", [466_666, 458_752, 300_001, 65_536 * 3 - 100])
def test_an_edge_between_text_and_random_input_is_found_to_a_few_kib(edge):
    for data, kinds_in_order in (
        (TEXT[:edge] + NOISE[: 700_000 - edge], (PieceKind.DEFLATE, PieceKind.STORE)),
        (NOISE[:edge] + TEXT[: 700_000 - edge], (PieceKind.STORE, PieceKind.DEFLATE)),
    ):
        (_, first_end, first), (_, _, second) = kinds(data)
        assert (first, second) == kinds_in_order
        assert abs(first_end - edge) < REFINE_SIZE
        got = deflate_runs(zlib, 6, data, None, True)
        assert inflate(got) == data
        assert len(got) <= len(plain(data)) * 1.002


def test_random_island_in_text_keeps_the_text_around_it_deflated():
    data = TEXT[:200_000] + NOISE[:150_000] + TEXT[200_000:400_000]
    assert [kind for _, _, kind in kinds(data)] == [
        PieceKind.DEFLATE,
        PieceKind.STORE,
        PieceKind.DEFLATE,
    ]
    got = deflate_runs(zlib, 6, data, None, True)
    assert inflate(got) == data
    assert len(got) <= len(plain(data)) * 1.002


SEGMENT = st.tuples(st.sampled_from(["text", "random", "zeros"]), st.integers(0, 150_000))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments=st.lists(SEGMENT, max_size=6), level=st.integers(1, 9), final=st.booleans())
def test_any_layout_round_trips_primed_and_unprimed(segments, level, final):
    parts, noise_used = [], 0
    for name, size in segments:  # random segments never repeat one another (see below)
        if name == "random":
            parts.append(random_bytes(size, seed=noise_used))
            noise_used += 1
        else:
            parts.append(bytes(size) if name == "zeros" else TEXT[:size])
    data = b"".join(parts)
    got = deflate_runs(zlib, level, data, None, final)
    if not final:
        got += zlib.compressobj(0, zlib.DEFLATED, -15).flush()  # an empty final block
    assert inflate(got) == data
    primer = TEXT[-32 * 1024 :]
    primed = deflate_runs(zlib, level, data, primer, True)
    assert inflate(primed, primer) == data
    if all(size >= SAMPLE_STEP for name, size in segments if name != "random"):
        # compressible bytes are seen wherever they run for a sample step: at most a sample
        # of them is stored at each of their edges
        edges = 2 * len(segments)
        assert len(got) <= len(plain(data, level)) * 1.002 + 64 + edges * SAMPLE_SIZE


def test_random_bytes_repeated_within_the_window_are_stored_all_the_same():
    """The known cost: samples compress on their own, so they cannot see that random bytes
    repeat bytes from just before them, which plain deflate would copy."""
    twice = NOISE[:20_000] * 2
    assert kinds(twice) == [(0, len(twice), PieceKind.STORE)]
    got = deflate_runs(zlib, 6, twice, None, True)
    assert inflate(got) == twice
    assert len(got) > len(plain(twice)) * 1.9


def test_block_compression_uses_it_for_zlib_only():
    data = TEXT[:200_000] + NOISE[:300_000]
    sorted_block, crc, length = compress_block(zlib, 6, data, None, True)
    assert inflate(sorted_block) == data and crc == zlib.crc32(data) and length == len(data)
    assert sorted_block == deflate_runs(zlib, 6, data, None, True) != plain(data)
    assert compress_block(zlib, 6, TEXT, None, True)[0] == plain(TEXT)
    assert compress_block(zlib, 0, data, None, True)[0] == plain(data, 0)


def test_backends_that_sort_pieces():
    assert sorts_pieces(zlib, 6) and sorts_pieces(zlib, 1)
    assert not sorts_pieces(zlib, 0)  # everything is stored anyway
    if "isal" in available_backends():
        assert isinstance(deflate_module("isal"), IsalDeflate)
        assert not sorts_pieces(deflate_module("isal"), 6)  # isal deflates random bytes fast
    if "zlib-ng" in available_backends():
        assert sorts_pieces(deflate_module("zlib-ng"), 6)


@pytest.mark.skipif("zlib-ng" not in available_backends(), reason="zlib-ng not installed")
def test_zlib_ng_runs_round_trip():
    data = TEXT[:200_000] + NOISE[:100_000] + bytes(4096) + NOISE[100_000:300_000] + TEXT[:9]
    got = deflate_runs(deflate_module("zlib-ng"), 6, data, None, True)
    assert inflate(got) == data


class CountingZlib:
    """zlib, counting the whole-member deflate calls a zip writer makes through it."""

    Z_RLE = zlib.Z_RLE

    def __init__(self) -> None:
        self.calls = 0

    def compress(self, data, level, wbits):
        self.calls += 1
        return zlib.compress(data, level, wbits)

    def compressobj(self, *args, **kwargs):
        self.calls += 1
        return zlib.compressobj(*args, **kwargs)


def member(name: str, data: bytes, module: CountingZlib):
    entry = FileEntry(f"/nowhere/{name}", name, EntryKind.FILE, len(data), 0o644, 0)
    return zip_writer.member_data(entry, LoadedFile(data, "0" * 64), 6, module)


def test_random_zip_member_is_stored_without_deflating_it():
    module = CountingZlib()
    method, crc, body, size, _ = member("noise.bin", NOISE[:300_000], module)
    assert (method, body, size) == (zip_writer.STORED, NOISE[:300_000], 300_000)
    assert crc == zlib.crc32(NOISE[:300_000])
    assert module.calls == 0


def test_zip_members_are_deflated_whole_unless_all_samples_are_random():
    module = CountingZlib()
    for data in (NOISE[:200_000] + TEXT[:200_000], TEXT, NOISE[: PIECE_SIZE - 1]):
        method, _, body, _, _ = member("member.bin", data, module)
        if data == NOISE[: PIECE_SIZE - 1]:  # too small to sample: deflated, then stored
            assert (method, body) == (zip_writer.STORED, data)
        else:
            assert (method, body) == (zip_writer.DEFLATED, plain(data))
    assert module.calls == 3


@pytest.mark.parametrize("parallel", [True, False])
def test_system_tools_read_archives_with_stored_runs(tmp_path, parallel):
    """A tree of text, random and mixed files (small and streamed) through the library, read
    back by gzip, tar and unzip."""
    gzip, tar, unzip = require_tool("gzip"), require_tool("tar"), require_tool("unzip")
    source = tmp_path / "src"
    (source / "media").mkdir(parents=True)
    long_text = text_bytes(2_600_000, seed=5)  # streamed, not read whole
    files = {
        "notes.txt": TEXT[:90_000],
        "media/clip.bin": NOISE[:400_000],
        "media/head-text-tail-noise.bin": long_text + NOISE[:450_000],
        "media/head-noise.bin": NOISE[:150_000] + long_text,
        "media/mixed-small.bin": TEXT[:150_000] + NOISE[:150_000],
        "media/small-noise.bin": NOISE[:20_000],
        "z-last.txt": TEXT[:70_000],
    }
    for name, data in files.items():
        (source / name).write_bytes(data)
    config = ArchiveConfig(
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        block_size=256 * 1024,
    )
    with ArchiveManager() as manager:
        for suffix in ("tar.gz", "zip"):
            assert manager.create_archive(source, tmp_path / f"a.{suffix}", config)
    subprocess.run([gzip, "-t", str(tmp_path / "a.tar.gz")], check=True)
    subprocess.run([unzip, "-tq", str(tmp_path / "a.zip")], check=True, capture_output=True)
    for suffix, command in (("tar.gz", [tar, "-xzf"]), ("zip", [unzip, "-q"])):
        target = tmp_path / f"out-{suffix}"
        target.mkdir()
        option = "-C" if suffix == "tar.gz" else "-d"
        subprocess.run([*command, str(tmp_path / f"a.{suffix}"), option, str(target)], check=True)
        for name, data in files.items():
            assert next(target.rglob(name.rsplit("/", 1)[-1])).read_bytes() == data
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        infos = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist()}
    assert infos["clip.bin"].compress_type == zipfile.ZIP_STORED
    assert infos["small-noise.bin"].compress_type == zipfile.ZIP_STORED
    assert infos["head-noise.bin"].compress_type == zipfile.ZIP_STORED  # judged by its head
    assert infos["mixed-small.bin"].compress_type == zipfile.ZIP_DEFLATED  # read whole
    mixed = infos["head-text-tail-noise.bin"]
    assert mixed.compress_type == zipfile.ZIP_DEFLATED
    # the text compressed, the noise stored in it at no cost
    assert mixed.compress_size <= len(plain(files["media/head-text-tail-noise.bin"])) * 1.002
