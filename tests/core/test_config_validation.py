"""``ArchiveConfig`` refuses a bad value with ``ValueError`` when it is built (docs/api.md,
"Configuration"), naming the setting, and still takes everything the old class took that
worked (probe finding 7: a single-string ``exclude_patterns`` silently emptied the archive,
a non-callable callback failed mid-operation, a negative ``max_file_size`` skipped every
file)."""

from __future__ import annotations

import functools
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager


def _tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("print('m')\n")
    (root / "pkg" / "m.pyc").write_bytes(b"\x00compiled")
    (root / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\x00cached")
    (root / "README").write_text("read me\n")
    (root / "empty.txt").write_bytes(b"")
    return root


def _archived(tmp_path: Path, config: ArchiveConfig) -> list[str]:
    source = tmp_path / "src"
    if not source.exists():
        _tree(source)
    archive = tmp_path / "out.tar.gz"
    with ArchiveManager() as manager:
        files = sorted(manager.create_archive(source, archive, config).files)
        dest = Path(tempfile.mkdtemp(prefix="dest-", dir=tmp_path))
        manager.extract_archive(archive, dest)  # what was listed is really there
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == files
    return files


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (dict(exclude_patterns="*.pyc"), "exclude_patterns"),
        (dict(exclude_patterns=b"*.pyc"), "exclude_patterns"),
        (dict(exclude_patterns=["*.pyc", 3]), "exclude_patterns"),
        (dict(exclude_patterns=[Path("build")]), "exclude_patterns"),
        (dict(exclude_patterns=7), "exclude_patterns"),
        (dict(progress_callback=5), "progress_callback"),
        (dict(progress_callback="print"), "progress_callback"),
        (dict(max_file_size=-1), "max_file_size"),
        (dict(max_file_size="100"), "max_file_size"),
        (dict(max_file_size=float("nan")), "max_file_size"),
        (dict(compression_level=None), "compression_level"),
        (dict(thread_pool_size="four"), "thread_pool_size"),
        (dict(parallel_batch_size=None), "parallel_batch_size"),
        (dict(parallel_threshold="20"), "parallel_threshold"),
        (dict(block_size="1048576"), "block_size"),
        (dict(max_blocks_in_flight="many"), "max_blocks_in_flight"),
        (dict(max_extract_size=-1), "max_extract_size"),
        (dict(max_extract_size=None), "max_extract_size"),
        (dict(max_member_count=-5), "max_member_count"),
        (dict(max_compression_ratio=0), "max_compression_ratio"),
        (dict(max_compression_ratio=None), "max_compression_ratio"),
        (dict(ratio_check_threshold=-1), "ratio_check_threshold"),
        (dict(max_header_ratio=None), "max_header_ratio"),
        (dict(reproducible_mtime=None), "reproducible_mtime"),
        # negative, zero or infinite where no such value means anything
        (dict(max_blocks_in_flight=-3), "max_blocks_in_flight"),
        (dict(max_blocks_in_flight=-1), "max_blocks_in_flight"),
        (dict(max_blocks_in_flight=float("inf")), "max_blocks_in_flight"),
        (dict(compression_level=-1), "compression_level"),
        (dict(thread_pool_size=0), "thread_pool_size"),
        (dict(thread_pool_size=-2), "thread_pool_size"),
        (dict(parallel_batch_size=0), "parallel_batch_size"),
        (dict(block_size=0), "block_size"),
        (dict(block_size=-1), "block_size"),
        (dict(block_size=float("nan")), "block_size"),
        (dict(block_size=float("inf")), "block_size"),
        (dict(gzip_restart_interval=-1), "gzip_restart_interval"),
        (dict(zstd_level=0), "zstd_level"),
        (dict(zstd_level=-1), "zstd_level"),
        (dict(max_extract_size=float("inf")), "max_extract_size"),
        (dict(max_member_count=float("inf")), "max_member_count"),
        (dict(max_compression_ratio=-1), "max_compression_ratio"),
        (dict(max_compression_ratio=float("nan")), "max_compression_ratio"),
        (dict(ratio_check_threshold=float("inf")), "ratio_check_threshold"),
        (dict(max_header_record_size=0), "max_header_record_size"),
        (dict(max_header_record_size=-1), "max_header_record_size"),
        (dict(max_header_record_size=0.5), "max_header_record_size"),
        (dict(max_header_record_size=float("inf")), "max_header_record_size"),
        (dict(max_header_ratio=0), "max_header_ratio"),
        (dict(max_header_ratio=-1), "max_header_ratio"),
        (dict(header_check_threshold=-1), "header_check_threshold"),
        (dict(header_check_threshold=float("inf")), "header_check_threshold"),
        (dict(max_side_file_size=0), "max_side_file_size"),
        (dict(max_side_file_size=-1), "max_side_file_size"),
        (dict(parallel_min_archive_bytes=-1), "parallel_min_archive_bytes"),
        (dict(reproducible_mtime=float("inf")), "reproducible_mtime"),
        # a string passes int() but fails a comparison deep in an operation (a TypeError, no
        # RuntimeError); a fraction would be cut without a word
        (dict(parallel_batch_size="5"), "parallel_batch_size"),
        (dict(thread_pool_size="2"), "thread_pool_size"),
        (dict(compression_level="6"), "compression_level"),
        (dict(max_member_count="1000"), "max_member_count"),
        (dict(zstd_level=b"3"), "zstd_level"),
        (dict(compression_level=6.7), "compression_level"),
        (dict(thread_pool_size=2.5), "thread_pool_size"),
    ],
)
def test_a_bad_value_is_refused_when_the_config_is_built(settings, named):
    with pytest.raises(ValueError, match=named):
        ArchiveConfig(**settings)


def test_a_single_pattern_string_says_how_to_write_it():
    with pytest.raises(
        ValueError, match=r"not the single string '\*\.pyc' \(write \['\*\.pyc'\]\)"
    ):
        ArchiveConfig(exclude_patterns="*.pyc")


@pytest.mark.parametrize(
    "patterns",
    [["*.pyc", "__pycache__"], ("*.pyc", "__pycache__"), {"*.pyc", "__pycache__"}],
    ids=["list", "tuple", "set"],
)
def test_patterns_in_any_collection_work(tmp_path, patterns):
    config = ArchiveConfig(exclude_patterns=patterns)
    assert isinstance(config.exclude_patterns, list)
    assert sorted(config.exclude_patterns) == ["*.pyc", "__pycache__"]
    assert _archived(tmp_path, config) == ["README", "empty.txt", "pkg/m.py"]


def test_a_list_of_patterns_is_kept_as_given_and_none_is_no_patterns(tmp_path):
    patterns = ["*.pyc"]
    assert ArchiveConfig(exclude_patterns=patterns).exclude_patterns is patterns
    config = ArchiveConfig(exclude_patterns=None)
    assert config.exclude_patterns == []
    assert _archived(tmp_path, config) == [
        "README",
        "empty.txt",
        "pkg/__pycache__/m.cpython-311.pyc",
        "pkg/m.py",
        "pkg/m.pyc",
    ]


def test_a_generator_of_patterns_is_read_once_and_kept(tmp_path):
    config = ArchiveConfig(exclude_patterns=(p for p in ["*.pyc"]))
    assert config.exclude_patterns == ["*.pyc"]
    assert _archived(tmp_path, config) == ["README", "empty.txt", "pkg/m.py"]


def test_size_limits_of_none_and_zero_still_work(tmp_path):
    # None: no limit; 0: only empty files (the old class compared sizes the same way)
    assert "pkg/m.pyc" in _archived(tmp_path, ArchiveConfig(max_file_size=None))
    assert _archived(tmp_path, ArchiveConfig(max_file_size=0)) == ["empty.txt"]


def test_any_callable_is_a_progress_callback(tmp_path):
    seen: list[tuple[int, int]] = []

    class Recorder:
        def __call__(self, current: int, total: int) -> None:
            seen.append((current, total))

    def record(tag: str, current: int, total: int) -> None:
        seen.append((current, total))

    for callback in (Recorder(), functools.partial(record, "p"), lambda c, t: seen.append((c, t))):
        seen.clear()
        _archived(tmp_path, ArchiveConfig(progress_callback=callback))
        assert seen and seen[-1][0] == seen[-1][1]


def test_old_style_values_that_worked_still_build():
    ArchiveConfig(compression_level=6.0, parallel_threshold=-1, thread_pool_size=2.0)
    ArchiveConfig(max_file_size=1.5e9, max_compression_ratio=float("inf"))
    ArchiveConfig(max_file_size=Fraction(10**6), parallel_threshold=Fraction(5))  # any real
    ArchiveConfig(max_blocks_in_flight=0, max_extract_size=0, max_member_count=0)


def test_zero_and_negative_values_that_mean_something_still_build():
    # 0: store (level), no restart points, only empty files or members, check from the start,
    # the pool for every archive; None or 0 in flight: two per thread
    assert ArchiveConfig(max_blocks_in_flight=0).blocks_in_flight == 8
    assert ArchiveConfig(max_blocks_in_flight=None, thread_pool_size=3).blocks_in_flight == 6
    assert ArchiveConfig(max_blocks_in_flight=1).blocks_in_flight == 1
    ArchiveConfig(
        compression_level=0,
        gzip_restart_interval=0,
        max_file_size=0,
        ratio_check_threshold=0,
        header_check_threshold=0,
        parallel_min_archive_bytes=0,
        max_header_record_size=1,
    )
    ArchiveConfig(parallel_threshold=-1, reproducible_mtime=-86400)  # always parallel; 1969
    ArchiveConfig(reproducible_mtime=1700000000.5)  # a time stamp as time.time() gives it
    # infinite limits that are compared, never counted to, stay "no limit"
    ArchiveConfig(max_side_file_size=float("inf"), max_header_ratio=float("inf"))
