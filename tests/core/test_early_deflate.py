"""A zip's larger files are deflated while the tree is walked (``codecs.early_deflate``): the
archive's bytes are exactly those made without it, the system's ``unzip`` reads them back, a
file screened out is dropped, an error met early is raised in the file's place with nothing
left behind, and no early task outlives the call, whether it ends well, fails or is
interrupted."""

from __future__ import annotations

import random
import subprocess
import threading
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager, SourceChangedError
from archive_parallel.codecs import early_deflate

BIG_FILES = {f"big/b{i}.txt": 550_000 + 150_000 * i for i in range(5)}


def _text(rng: random.Random, size: int) -> bytes:
    words = [b"alpha", b"beta", b"gamma", b"config", b"value", b"\n"]
    return b" ".join(rng.choice(words) for _ in range(size // 5))[:size].ljust(size, b".")


def _tree(root: Path, small: int = 300, big: dict[str, int] = BIG_FILES) -> dict[str, bytes]:
    """``small`` files of a few KiB and the ``big`` ones, written under ``root``."""
    rng = random.Random(7)
    files = {f"d{i % 7}/f{i:03d}.txt": _text(rng, rng.randint(100, 6000)) for i in range(small)}
    files.update({name: _text(rng, size) for name, size in big.items()})
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _config(**overrides) -> ArchiveConfig:
    return ArchiveConfig(thread_pool_size=3, durable_writes=False, **overrides)


@pytest.fixture
def deflated_early(monkeypatch):
    """The names of the files deflated early, as their tasks start."""
    names: list[str] = []
    real = early_deflate._deflate_early

    def counted(entry, *args):
        names.append(entry.name)
        return real(entry, *args)

    monkeypatch.setattr(early_deflate, "_deflate_early", counted)
    return names


def test_larger_files_are_deflated_during_the_walk_and_the_bytes_do_not_change(
    tmp_path, monkeypatch, deflated_early
):
    files = _tree(tmp_path / "src")
    manager = ArchiveManager()
    early = tmp_path / "early.zip"
    manager.create_archive(tmp_path / "src", early, _config())
    assert sorted(deflated_early) == sorted(BIG_FILES)
    monkeypatch.setattr(early_deflate, "EARLY_MIN_BYTES", 1 << 40)  # none early
    plain = tmp_path / "plain.zip"
    manager.create_archive(tmp_path / "src", plain, _config())
    assert early.read_bytes() == plain.read_bytes()
    assert len(deflated_early) == len(BIG_FILES)
    subprocess.run(["unzip", "-tq", str(early)], check=True, capture_output=True)
    out = tmp_path / "out"
    subprocess.run(["unzip", "-q", str(early), "-d", str(out)], check=True)
    assert {n: (out / n).read_bytes() for n in files} == files


def test_only_what_the_budget_allows_is_deflated_early(tmp_path, monkeypatch, deflated_early):
    _tree(tmp_path / "src")
    monkeypatch.setattr(early_deflate, "EARLY_BUDGET_BYTES", 1_300_000)
    ArchiveManager().create_archive(tmp_path / "src", tmp_path / "a.zip", _config())
    assert deflated_early == ["big/b0.txt", "big/b1.txt"]  # 550,000 + 700,000 bytes


@pytest.mark.parametrize(
    ("small", "config"),
    [
        pytest.param(10, _config(), id="too-few-files"),
        pytest.param(300, _config(enable_parallel_processing=False), id="sequential"),
        pytest.param(300, _config(compression_level=0), id="stored"),
        pytest.param(300, _config(parallel_walk=True), id="parallel-walk"),
    ],
)
def test_nothing_is_deflated_early_where_it_cannot_pay(tmp_path, small, config, deflated_early):
    _tree(tmp_path / "src", small=small)
    ArchiveManager().create_archive(tmp_path / "src", tmp_path / "a.zip", config)
    assert deflated_early == []


def test_a_tar_is_never_deflated_early(tmp_path, deflated_early):
    _tree(tmp_path / "src")
    ArchiveManager().create_archive(tmp_path / "src", tmp_path / "a.tar.gz", _config())
    assert deflated_early == []


def test_a_file_screened_out_after_being_deflated_early_is_left_out(
    tmp_path, deflated_early, caplog
):
    files = _tree(tmp_path / "src", big={"big/ok.txt": 600_000, "big/bell\x07.txt": 700_000})
    archive = tmp_path / "a.zip"
    ArchiveManager().create_archive(tmp_path / "src", archive, _config(unarchivable_names="skip"))
    assert sorted(deflated_early) == ["big/bell\x07.txt", "big/ok.txt"]
    listing = subprocess.run(["unzip", "-Z1", str(archive)], check=True, capture_output=True)
    names = set(listing.stdout.decode().splitlines())
    assert "big/ok.txt" in names and not any("bell" in n for n in names)
    assert len([n for n in names if not n.endswith("/")]) == len(files) - 1


def test_an_error_met_early_is_raised_in_the_files_place_and_nothing_is_left(tmp_path, monkeypatch):
    _tree(tmp_path / "src")
    real = early_deflate._deflate_early

    def vanishing(entry, *args):
        if entry.name == "big/b2.txt":
            Path(entry.path).unlink()
        return real(entry, *args)

    monkeypatch.setattr(early_deflate, "_deflate_early", vanishing)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceChangedError, match="big/b2.txt"):
        ArchiveManager().create_archive(tmp_path / "src", out / "a.zip", _config())
    assert list(out.iterdir()) == []


def test_an_interrupted_walk_waits_for_the_early_tasks_it_started(tmp_path, monkeypatch):
    """Ctrl-C while early tasks run: the call ends only once they have (no worker reads a
    source file after it), and what had not started never does."""
    _tree(tmp_path / "src", big={f"z/b{i}.txt": 600_000 for i in range(6)})
    release = threading.Event()
    started: list[str] = []
    finished: list[str] = []
    real = early_deflate._deflate_early

    def slow(entry, *args):
        started.append(entry.name)
        release.wait(5)
        try:
            return real(entry, *args)
        finally:
            finished.append(entry.name)

    monkeypatch.setattr(early_deflate, "_deflate_early", slow)
    offer = early_deflate.EarlyDeflate.offer

    def interrupted(self, entry):
        offer(self, entry)
        if entry.name == "z/b5.txt":
            threading.Timer(0.2, release.set).start()
            raise KeyboardInterrupt

    monkeypatch.setattr(early_deflate.EarlyDeflate, "offer", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        ArchiveManager().create_archive(tmp_path / "src", out / "a.zip", _config())
    assert started and sorted(finished) == sorted(started)
    assert len(started) < 6  # three workers: the rest were cancelled
    assert list(out.iterdir()) == []


def test_links_followed_keep_the_bytes(tmp_path, monkeypatch, deflated_early):
    """With ``follow_symlinks`` the walk lists everything at its end: the large files are
    still deflated ahead of the batches, and the bytes are those made without it."""
    files = _tree(tmp_path / "src")
    (tmp_path / "src" / "linked").symlink_to("big")
    config = _config(follow_symlinks=True)
    monkeypatch.setattr(early_deflate, "EARLY_BUDGET_BYTES", 1 << 30)  # both copies of each
    early = tmp_path / "early.zip"
    ArchiveManager().create_archive(tmp_path / "src", early, config)
    assert sorted(deflated_early) == sorted([*BIG_FILES, *(f"linked/{n[4:]}" for n in BIG_FILES)])
    monkeypatch.setattr(early_deflate, "EARLY_MIN_BYTES", 1 << 40)
    plain = tmp_path / "plain.zip"
    ArchiveManager().create_archive(tmp_path / "src", plain, config)
    assert early.read_bytes() == plain.read_bytes()
    out = tmp_path / "out"
    subprocess.run(["unzip", "-q", str(early), "-d", str(out)], check=True)
    assert (out / "linked" / "b4.txt").read_bytes() == files["big/b4.txt"]
