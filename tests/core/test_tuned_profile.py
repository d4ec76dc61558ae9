"""A tuned profile on disk can only ever weaken to the built-in defaults: an invalid setting in
it is ignored with one warning naming the file, the setting and why, and ``ArchiveManager()``
works; an invalid value the caller passes still raises."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.config import TUNED_PROFILE_ENV
from tests.cli_runner import run_cli

BUILT_IN = ArchiveConfig()

BAD_SETTINGS = [
    ("thread_pool_size", 0, "must be at least 1"),
    ("thread_pool_size", "4", "must be a whole number"),
    ("thread_pool_size", 4.0, "must be a whole number"),
    ("thread_pool_size", True, "must be a whole number"),
    ("parallel_batch_size", "many", "must be a whole number"),
    ("parallel_batch_size", None, "must be a whole number"),
    ("block_size", 1024, "at least 64 KiB"),
    ("compression_backend", "brotli", "not a tuned setting"),
]


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a profile where ``$ARCHIVE_PARALLEL_TUNED_PROFILE`` points; its path."""
    path = tmp_path / "tuned" / "linux-x86_64.json"
    path.parent.mkdir()
    monkeypatch.setenv(TUNED_PROFILE_ENV, str(path))

    def write(content: object) -> Path:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("name", "value", "reason"), BAD_SETTINGS, ids=[f"{n}={v!r}" for n, v, _ in BAD_SETTINGS]
)
def test_a_bad_setting_is_ignored_with_one_warning_and_the_others_kept(
    profile, tmp_path, caplog, name, value, reason
):
    path = profile({"settings": {name: value, "parallel_threshold": 7}})
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("hello\n")
    with caplog.at_level(logging.WARNING, logger="archive_parallel"), ArchiveManager() as manager:
        assert manager.default_config.parallel_threshold == 7
        if hasattr(BUILT_IN, name):
            assert getattr(manager.default_config, name) == getattr(BUILT_IN, name)
        manager.create_archive(source, tmp_path / "a.tar.gz")
        manager.extract_archive(tmp_path / "a.tar.gz", tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_text() == "hello\n"
    (warning,) = warnings_of(caplog)
    assert str(path) in warning and name in warning and reason in warning


@pytest.mark.parametrize("content", ['{"settings": [4]}', "[4]", '"threads"'])
def test_settings_that_are_not_an_object_are_ignored_with_a_warning(profile, caplog, content):
    path = profile(content)
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        assert ArchiveConfig.tuned() == ArchiveConfig()
    (warning,) = warnings_of(caplog)
    assert str(path) in warning and "not a JSON object" in warning


def test_settings_valid_alone_but_not_together_ignore_the_profile(profile, caplog, monkeypatch):
    """No rule ties two tuned settings today; one that did must not let a profile raise."""
    checks = ArchiveConfig.__post_init__

    def batches_hold_a_file_per_thread(self: ArchiveConfig) -> None:
        checks(self)
        if self.parallel_batch_size < self.thread_pool_size:
            raise ValueError("parallel_batch_size must be at least thread_pool_size")

    monkeypatch.setattr(ArchiveConfig, "__post_init__", batches_hold_a_file_per_thread)
    path = profile({"settings": {"thread_pool_size": 8, "parallel_batch_size": 6}})
    with caplog.at_level(logging.WARNING, logger="archive_parallel"), ArchiveManager() as manager:
        assert manager.default_config.thread_pool_size == BUILT_IN.thread_pool_size
        assert manager.default_config.parallel_batch_size == BUILT_IN.parallel_batch_size
    (warning,) = warnings_of(caplog)
    assert str(path) in warning and "do not go together" in warning
    # a profile that clashes with what the caller gives gives way to it
    profile({"settings": {"thread_pool_size": 8}})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        config = ArchiveConfig.tuned(parallel_batch_size=6)
    assert (config.thread_pool_size, config.parallel_batch_size) == (BUILT_IN.thread_pool_size, 6)
    (warning,) = warnings_of(caplog)
    assert str(path) in warning and "do not go with the ones given" in warning


@pytest.mark.parametrize(
    "content",
    [{"settings": {"thread_pool_size": 3}}, {"settings": {"thread_pool_size": 0}}, None],
    ids=["good profile", "bad profile", "no profile"],
)
def test_an_invalid_explicit_value_still_raises(profile, content):
    if content is not None:
        profile(content)
    with pytest.raises(ValueError, match="thread_pool_size must be at least 1"):
        ArchiveConfig.tuned(thread_pool_size=0)
    with pytest.raises(ValueError, match="parallel_batch_size must be a whole number"):
        ArchiveConfig.tuned(parallel_batch_size="many")


def test_a_good_profile_is_used_without_a_word(profile, caplog):
    profile({"settings": {"thread_pool_size": 3, "block_size": 128 * 1024}})
    with caplog.at_level(logging.WARNING, logger="archive_parallel"), ArchiveManager() as manager:
        assert manager.default_config.thread_pool_size == 3
        assert manager.default_config.block_size == 128 * 1024
    assert warnings_of(caplog) == []


def test_reproducible_cli_output_does_not_depend_on_a_profile_block_size(profile, tmp_path):
    """``--reproducible`` means the same bytes on every machine: a tuned profile's block size
    (which shapes the deflate stream) is left out, its other settings kept."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(20):  # several 64 KiB blocks of compressible text
        (src / f"f{i}.txt").write_text(f"line {i} of the package\n" * 2000)
    digests = {}
    for name, content in [("none", None), ("tuned", {"settings": {"block_size": 65536}})]:
        if content is not None:
            profile(content)
        out = tmp_path / f"{name}.tar.gz"
        result = run_cli("create", src, out, "--reproducible", "--no-progress")
        assert result.returncode == 0, result.stderr
        digests[name] = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digests["none"] == digests["tuned"]


@pytest.mark.parametrize("kind", ["fifo", "endless", "nested", "not-utf-8"])
def test_a_profile_that_is_no_small_json_file_is_ignored_with_a_warning(
    profile, tmp_path, caplog, kind
):
    """A FIFO (opening it must not wait for a writer), ``/dev/zero`` (reading it must not
    take all memory), JSON nested past the parser's depth: each is one warning and the
    built-in defaults, never a hang or a traceback."""
    path = profile({"settings": {"thread_pool_size": 3}})
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "endless":
        path.symlink_to("/dev/zero")
    elif kind == "nested":
        path.write_text("[" * 200_000 + "]" * 200_000)
    else:
        path.write_bytes(b'{"settings": {"\xff": 1}}')
    with caplog.at_level(logging.WARNING, logger="archive_parallel"):
        assert ArchiveConfig.tuned() == BUILT_IN
        with ArchiveManager() as manager:
            assert manager.default_config == BUILT_IN
    assert warnings_of(caplog) and all("ignoring unreadable" in w for w in warnings_of(caplog))


def test_no_home_folder_means_no_profile(monkeypatch):
    """``HOME`` unset and no password entry for the user (a container run as a bare uid):
    the built-in defaults, as with no profile."""
    import pwd

    monkeypatch.delenv(TUNED_PROFILE_ENV, raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert ArchiveConfig.tuned() == BUILT_IN
    with ArchiveManager() as manager:
        assert manager.default_config == BUILT_IN
