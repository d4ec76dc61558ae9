"""Source files and folders that cannot be read: skipped with a warning by the library (the old
class's behaviour, ``unreadable_entries="skip"``), refused before anything is written with
``unreadable_entries="error"``, which is what the command line does unless
``--skip-unreadable``. Files over ``max_file_size`` are skipped with a warning either way, and
the command line's summary says how many of each were left out. A tree that also holds names
that cannot be archived (an absolute symlink) is refused in one run naming both kinds.

Unreadable means it for real: mode 000 on a file and on a folder. Root reads them anyway, so
as root the library and the CLI run in a child process without the capabilities that let
root ignore file modes (``setpriv``, keeping the same uid); the test is skipped where that
cannot be done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unprivileged import unprivileged_prefix

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _run(*command: str, privileged: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    prefix = [] if privileged else unprivileged_prefix()
    return subprocess.run([*prefix, *command], capture_output=True, text=True, env=env, timeout=120)


def cli(*args: object, privileged: bool = False) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "archive_parallel", *map(str, args), privileged=privileged)


def library(code: str, *args: object) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (with ``args`` as ``sys.argv[1:]``) in a child process."""
    return _run(sys.executable, "-c", textwrap.dedent(code), *map(str, args))


@pytest.fixture
def source(tmp_path):
    """``a.txt`` readable, ``b.txt`` (mode 000) and ``sub/`` (mode 000, with ``c.txt``) not."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        (src / name).write_text(f"{name}\n")
    os.chmod(src / "b.txt", 0)
    os.chmod(src / "sub", 0)
    probe = _run(sys.executable, "-c", f"open({str(src / 'b.txt')!r}).read()")
    if probe.returncode == 0:
        os.chmod(src / "sub", 0o755)
        pytest.skip("this process cannot make a file it may not read")
    yield src
    os.chmod(src / "sub", 0o755)
    os.chmod(src / "b.txt", 0o644)


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_the_library_skips_them_with_a_warning_by_default(source, tmp_path, suffix):
    archive = tmp_path / "out" / f"a.{suffix}"
    r = library(
        """
        import json, logging, sys
        logging.basicConfig(level=logging.WARNING)
        from archive_parallel import ArchiveConfig, ArchiveManager
        with ArchiveManager() as manager:
            collected = manager._collect_files(sys.argv[1], ArchiveConfig())
            meta = manager.create_archive(sys.argv[1], sys.argv[2], ArchiveConfig())
        print(json.dumps({"collected": [str(p) for p in collected], "files": meta.files,
                          "skipped": meta.skipped, "side": meta.to_dict()}))
        """,
        source,
        archive,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["collected"] == [str(source / "a.txt")]
    assert out["files"] == ["a.txt"]
    assert sorted(name for name, _ in out["skipped"]) == ["b.txt", "sub"]
    assert all(reason.startswith("unreadable") for _, reason in out["skipped"])
    assert "skipped" not in out["side"]  # what was left out is not part of the side file
    assert "skipping unreadable file" in r.stderr and "skipping unreadable folder" in r.stderr
    assert _listing(archive.parent) == sorted([archive.name, archive.name + ".meta"])


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_error_refuses_before_anything_is_written(source, tmp_path, suffix):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    archive = out_dir / f"a.{suffix}"
    (out_dir / "other").write_text("there before")  # an existing folder keeps what it had
    r = library(
        """
        import sys
        from archive_parallel import ArchiveConfig, ArchiveManager, UnreadableSourceError
        config = ArchiveConfig(unreadable_entries="error")
        with ArchiveManager() as manager:
            try:
                manager.create_archive(sys.argv[1], sys.argv[2], config)
            except UnreadableSourceError as exc:
                assert isinstance(exc, RuntimeError)
                print(sorted(name for name, _ in exc.entries))
                print(exc)
            else:
                sys.exit("no error")
        """,
        source,
        archive,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    names, message = r.stdout.splitlines()
    assert names == "['b.txt', 'sub']"
    assert message.startswith("cannot read 2 source entries: ")
    assert str(source / "b.txt") in message and str(source / "sub") in message
    assert r.stderr == ""  # one error instead of a warning per entry
    assert _listing(out_dir) == ["other"]


def test_the_error_names_the_first_few_and_counts_the_rest(tmp_path):
    from archive_parallel import UnreadableSourceError

    entries = [(f"f{i}", "unreadable file: no read permission") for i in range(5)]
    exc = UnreadableSourceError(tmp_path, entries)
    text = str(exc)
    assert text.startswith("cannot read 5 source entries: ")
    assert text.endswith(" and 2 more") and str(tmp_path / "f2") in text
    assert str(tmp_path / "f3") not in text
    assert "\n" not in text


def test_the_setting_is_checked():
    from archive_parallel import ArchiveConfig

    assert ArchiveConfig().unreadable_entries == "skip"  # the old class's behaviour
    with pytest.raises(ValueError, match="unreadable_entries"):
        ArchiveConfig(unreadable_entries="ignore")


def test_cli_create_fails_with_one_line_and_writes_nothing(source, tmp_path):
    out_dir = tmp_path / "out"
    r = cli("create", source, out_dir / "a.tar.gz")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("archive-parallel: error: cannot read 2 source entries: ")
    assert str(source / "b.txt") in lines[0] and "--skip-unreadable" in lines[0]
    assert r.stdout == ""
    assert _listing(out_dir) == []


def test_cli_json_lists_every_unreadable_entry(source, tmp_path):
    r = cli("create", source, tmp_path / "out" / "a.tar.gz", "--json")
    assert r.returncode == 1, r.stderr
    error = json.loads(r.stdout)["error"]
    assert sorted(e["name"] for e in error["entries"]) == ["b.txt", "sub"]
    assert all(e["reason"].startswith("unreadable") for e in error["entries"])
    assert all(e["kind"] == "unreadable" for e in error["entries"])


def test_cli_skip_unreadable_warns_and_counts_them(source, tmp_path):
    archive = tmp_path / "out" / "a.tar.gz"
    r = cli("create", source, archive, "--skip-unreadable")
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("; left out 2 unreadable")
    assert len(r.stderr.strip().splitlines()) == 2  # one warning per entry
    r = cli("create", source, archive, "--skip-unreadable", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["files"] == ["a.txt"]
    assert [s["name"] for s in data["skipped"]] == ["b.txt", "sub"]


def test_cli_reports_files_over_the_size_limit(tmp_path):
    """max_file_size (100 MiB) skips with a warning, as the API promises; the command
    succeeds and says so in its summary and JSON. A sparse file: nothing is read."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.txt").write_text("small\n")
    with open(src / "huge.bin", "wb") as handle:
        handle.truncate(100 * MiB + 1)
    archive = tmp_path / "a.tar.gz"
    r = cli("create", src, archive, privileged=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("; left out 1 over the size limit")
    assert "huge.bin" in r.stderr and "limit" in r.stderr
    r = cli("create", src, archive, "--json", privileged=True)
    assert json.loads(r.stdout)["skipped"] == [{"name": "huge.bin", "reason": "over max_file_size"}]
    r = cli("create", src, tmp_path / "b.zip", "--exclude", "huge.bin", privileged=True)
    assert r.returncode == 0 and "left out" not in r.stdout and r.stderr == ""


def test_the_result_lists_everything_left_out(tmp_path):
    """Not only unreadable entries: a special file and a name skipped by
    ``unarchivable_names="skip"`` are in ``skipped`` too, and none of it goes into the side
    file."""
    from archive_parallel import ArchiveConfig, ArchiveManager

    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("ok\n")
    (src / "bad\nname.txt").write_text("a newline in the name\n")
    os.mkfifo(src / "pipe")
    archive = tmp_path / "a.tar.gz"
    with ArchiveManager() as manager:
        meta = manager.create_archive(src, archive, ArchiveConfig(unarchivable_names="skip"))
    reasons = dict(meta.skipped)
    assert meta.files == ["ok.txt"]
    assert set(reasons) == {"bad\nname.txt", "pipe"}
    assert reasons["pipe"] == "special file"
    assert "skipped" not in json.loads(archive.with_name("a.tar.gz.meta").read_text())


# --------------------------------------------------------------- unreadable and unarchivable


@pytest.fixture
def mixed(source, tmp_path):
    """``source`` plus ``bin/python``, a symlink to a file outside the tree by its absolute
    path: a name extraction would refuse, next to two entries that cannot be read."""
    outside = tmp_path / "outside" / "python3"
    outside.parent.mkdir()
    outside.write_text("#!interpreter\n")
    (source / "bin").mkdir()
    (source / "bin" / "python").symlink_to(outside)
    return source


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_both_kinds_are_refused_in_one_error(mixed, tmp_path, suffix):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    archive = out_dir / f"a.{suffix}"
    (out_dir / "other").write_text("there before")
    r = library(
        """
        import json, sys
        from archive_parallel import (
            ArchiveConfig, ArchiveManager, UnarchivableNameError,
            UnreadableAndUnarchivableError, UnreadableSourceError,
        )
        config = ArchiveConfig(unreadable_entries="error")
        caught = []
        with ArchiveManager() as manager:
            for kind in (UnreadableSourceError, UnarchivableNameError):
                try:
                    manager.create_archive(sys.argv[1], sys.argv[2], config)
                except kind as exc:
                    caught.append(exc)
        exc = caught[0]
        assert type(exc) is UnreadableAndUnarchivableError and len(caught) == 2
        assert isinstance(exc, RuntimeError)
        print(json.dumps({"unreadable": exc.unreadable, "unarchivable": exc.unarchivable,
                          "entries": exc.entries, "path": exc.path, "reason": exc.reason,
                          "source": exc.source}))
        print(exc)
        """,
        mixed,
        archive,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    data, message = r.stdout.splitlines()
    data = json.loads(data)
    assert sorted(name for name, _ in data["unreadable"]) == ["b.txt", "sub"]
    assert [name for name, _ in data["unarchivable"]] == ["bin/python"]
    assert data["entries"] == data["unreadable"] + data["unarchivable"]
    assert data["path"] == str(mixed / "bin" / "python")
    assert "absolute path" in data["reason"] and data["source"] == str(mixed)
    assert message.startswith("cannot read 2 source entries: ")
    assert "; cannot archive 1 source entry: " in message
    for path in (mixed / "b.txt", mixed / "sub", mixed / "bin" / "python"):
        assert str(path) in message
    assert r.stderr == ""  # one error instead of a warning per entry
    assert _listing(out_dir) == ["other"]


@pytest.mark.parametrize(
    "settings,raised",
    [
        ({"unreadable_entries": "error", "unarchivable_names": "skip"}, "UnreadableSourceError"),
        ({"unreadable_entries": "skip"}, "UnarchivableNameError"),
    ],
)
def test_a_kind_left_out_by_its_setting_is_not_refused(mixed, tmp_path, settings, raised):
    """Only the kinds set to "error" are refused, each in its own class as before; a creation
    refused for unreadable entries says nothing of the names it would have left out."""
    archive = tmp_path / "out" / "a.tar.gz"
    r = library(
        """
        import json, sys
        from archive_parallel import ArchiveConfig, ArchiveManager, ArchiveError
        config = ArchiveConfig(**json.loads(sys.argv[3]))
        with ArchiveManager() as manager:
            try:
                manager.create_archive(sys.argv[1], sys.argv[2], config)
            except ArchiveError as exc:
                print(type(exc).__name__)
                print(json.dumps([exc.unreadable, exc.unarchivable]))
        """,
        mixed,
        archive,
        json.dumps(settings),
    )
    assert r.returncode == 0, r.stderr + r.stdout
    name, lists = r.stdout.splitlines()
    unreadable, unarchivable = json.loads(lists)
    assert name == raised
    if raised == "UnreadableSourceError":
        assert (len(unreadable), unarchivable) == (2, [])
        assert r.stderr == ""
    else:
        assert (unreadable, [n for n, _ in unarchivable]) == ([], ["bin/python"])
    assert not archive.parent.exists()


def test_the_combined_error_names_the_first_few_of_each_kind(tmp_path):
    from archive_parallel import UnreadableAndUnarchivableError

    unreadable = [(f"r{i}", "unreadable file: no read permission") for i in range(4)]
    unarchivable = [(f"n{i}", "its name is not valid UTF-8") for i in range(5)]
    exc = UnreadableAndUnarchivableError(tmp_path, unreadable, unarchivable)
    read, archive = str(exc).split("; ")
    assert read.startswith("cannot read 4 source entries: ") and read.endswith(" and 1 more")
    assert archive.startswith("cannot archive 5 source entries: ")
    assert archive.endswith(" and 2 more") and str(tmp_path / "n2") in archive
    assert exc.path == str(tmp_path / "n0") and exc.reason == "its name is not valid UTF-8"
    with pytest.raises(ValueError):
        UnreadableAndUnarchivableError(tmp_path, unreadable, [])


def test_cli_names_both_kinds_in_one_line_and_writes_nothing(mixed, tmp_path):
    out_dir = tmp_path / "out"
    r = cli("create", mixed, out_dir / "a.tar.gz")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("archive-parallel: error: cannot read 2 source entries: ")
    assert "; cannot archive 1 source entry: " in line
    assert str(mixed / "b.txt") in line and str(mixed / "bin" / "python") in line
    assert "--follow-symlinks" in line
    assert line.endswith("; --skip-unreadable and --skip-unarchivable leave them out")
    assert r.stdout == ""
    assert _listing(out_dir) == []


def test_cli_json_lists_both_kinds(mixed, tmp_path):
    r = cli("create", mixed, tmp_path / "out" / "a.zip", "--json")
    assert r.returncode == 1, r.stderr
    error = json.loads(r.stdout)["error"]
    kinds = {e["name"]: e["kind"] for e in error["entries"]}
    assert kinds == {"b.txt": "unreadable", "sub": "unreadable", "bin/python": "unarchivable"}
    reasons = {e["name"]: e["reason"] for e in error["entries"]}
    assert reasons["b.txt"].startswith("unreadable") and "absolute" in reasons["bin/python"]
    assert "cannot read 2" in error["message"] and "cannot archive 1" in error["message"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "option,left",
    [
        ("--skip-unarchivable", "cannot read 2 source entries"),
        ("--follow-symlinks", "cannot read 2 source entries"),
        ("--skip-unreadable", "cannot archive"),
    ],
)
def test_cli_an_option_for_one_kind_leaves_the_other_refused(mixed, tmp_path, option, left):
    r = cli("create", mixed, tmp_path / "out" / "a.tar.gz", option)
    assert r.returncode == 1, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"archive-parallel: error: {left}")
    assert ("cannot read" in line) != ("cannot archive" in line), line
    assert " and --skip" not in line
    assert not (tmp_path / "out").exists()


def test_cli_both_options_archive_the_rest(mixed, tmp_path):
    archive = tmp_path / "out" / "a.tar.gz"
    r = cli("create", mixed, archive, "--skip-unreadable", "--skip-unarchivable")
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("; left out 2 unreadable, 1 unarchivable")
    assert archive.exists()
