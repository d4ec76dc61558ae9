"""Every name either reads back unchanged, through this library and the system tools, or
creation refuses it up front, naming the file.

Refused (extraction would refuse or change it): names that are not UTF-8, hold control
characters, hold a backslash, start with a drive (``C:x``), are nested more than 256 folders
deep or start with extraction's ``.ap-staging-`` at the top, and symlinks whose target is
absolute, leads outside (alone or through other links), or is not UTF-8.
``unarchivable_names="skip"`` leaves them out with a warning; the rest of the tree is archived
and reads back. Names that are unusual but fine (accents, other scripts, emoji, spaces,
quotes, a leading dash) round-trip through ``extract_archive``, ``tar`` and ``unzip``.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager, UnarchivableNameError
from tests.cli_runner import run_cli

SUFFIXES = ["tar.gz", "zip", "tar"]
LOCALE = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
ENV = dict(os.environ, **LOCALE)

BAD_NAMES = {
    "not UTF-8": b"latin1-caf\xe9.txt",
    "lone continuation byte": b"x\x80y",
    "escape sequence": b"evil\x1b[2J.txt",
    "newline": b"two\nlines.txt",
    "carriage return": b"over\rwrite.txt",
    "tab": b"tab\there.txt",
    "delete character": b"del\x7f.txt",
    "backslash": b"back\\slash.txt",
    "drive prefix": b"C:drive.txt",
}
BAD_LINKS = {
    "absolute target": b"/etc/passwd",
    "target leading outside": b"../../outside",
    "target not UTF-8": b"caf\xe9",
    "target with an escape": b"x\x1b]0;title\x07",
}
GOOD_NAMES = [
    "café.txt",
    "日本語/ファイル.txt",
    "emoji 😀.txt",
    "space name.txt",
    "-leading-dash.txt",
    'quote\'s "double".txt',
    "percent%20and#hash.txt",
    "Ωmega/ünïcødé/deep.txt",
]


def _good_tree(root: Path) -> Path:
    for name in GOOD_NAMES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n", encoding="utf-8")
    (root / "link-to-cafe").symlink_to("café.txt")
    return root


def _tree_with(tmp_path: Path, bad: bytes, as_link: bool, in_folder: bool) -> tuple[Path, bytes]:
    root = _good_tree(tmp_path / "src")
    folder = os.fsencode(root / "sub") if in_folder else os.fsencode(root)
    os.makedirs(folder, exist_ok=True)
    if as_link:
        path = os.path.join(folder, b"the-link")
        os.symlink(bad, path)
    else:
        path = os.path.join(folder, bad)
        with open(path, "wb") as handle:
            handle.write(b"bad name")
    return root, path


def _system_listing(archive: Path) -> list[str]:
    if archive.suffix == ".zip":
        out = subprocess.run(["unzip", "-Z1", str(archive)], capture_output=True, env=ENV)
    else:
        out = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, env=ENV)
    assert out.returncode == 0, out.stderr
    return sorted(n.rstrip("/") for n in out.stdout.decode("utf-8").splitlines())


def _expected_names(root: Path) -> list[str]:
    names = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            names.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return sorted(names)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("what", list(BAD_NAMES))
def test_a_name_that_cannot_read_back_is_refused_up_front(tmp_path, suffix, what):
    root, path = _tree_with(tmp_path, BAD_NAMES[what], as_link=False, in_folder=bool(len(what) % 2))
    archive = tmp_path / "out" / f"pkg.{suffix}"
    archive.parent.mkdir()
    archive.write_bytes(b"previous")
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, archive)
    message = str(excinfo.value)
    assert excinfo.value.path == os.fsdecode(path)
    assert message.isprintable(), "the message shows the name raw"
    assert "cannot archive" in message and (
        "the-link" in message or "sub" in message or "/" in message
    )
    assert archive.read_bytes() == b"previous"
    assert sorted(os.listdir(archive.parent)) == [archive.name]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("what", list(BAD_LINKS))
def test_a_link_that_extraction_would_refuse_is_refused_up_front(tmp_path, suffix, what):
    root, path = _tree_with(tmp_path, BAD_LINKS[what], as_link=True, in_folder=True)
    archive = tmp_path / f"pkg.{suffix}"
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, archive)
    assert "the-link" in str(excinfo.value) and str(excinfo.value).isprintable()
    assert not archive.exists()


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    "what,as_link",
    [("not UTF-8", False), ("escape sequence", False), ("backslash", False)]
    + [("absolute target", True), ("target not UTF-8", True)],
)
def test_skip_leaves_them_out_with_a_warning(tmp_path, suffix, what, as_link, caplog):
    bad = (BAD_LINKS if as_link else BAD_NAMES)[what]
    root, path = _tree_with(tmp_path, bad, as_link=as_link, in_folder=True)
    archive = tmp_path / f"pkg.{suffix}"
    config = ArchiveConfig(unarchivable_names="skip")
    dest = tmp_path / "dest"
    with caplog.at_level(logging.WARNING, logger="archive_parallel"), ArchiveManager() as manager:
        meta = manager.create_archive(root, archive, config)
        manager.extract_archive(archive, dest)
    assert "skipping" in caplog.text
    os.unlink(path)
    expected = _expected_names(root)
    assert _system_listing(archive) == expected
    assert _expected_names(dest) == expected
    assert sorted(meta.files) == sorted(
        n for n in expected if not (root / n).is_dir() or (root / n).is_symlink()
    )


def test_skip_leaves_out_a_folder_with_everything_in_it(tmp_path, caplog):
    root = _good_tree(tmp_path / "src")
    bad_folder = os.path.join(os.fsencode(root), b"bad\x1bfolder")
    os.makedirs(os.path.join(bad_folder, b"inner"))
    for name in (b"a.txt", b"inner/b.txt"):
        with open(os.path.join(bad_folder, name), "wb") as handle:
            handle.write(b"x")
    with caplog.at_level(logging.WARNING, logger="archive_parallel"), ArchiveManager() as manager:
        manager.create_archive(
            root, tmp_path / "p.tar.gz", ArchiveConfig(unarchivable_names="skip")
        )
    assert caplog.text.count("skipping") == 1
    assert _system_listing(tmp_path / "p.tar.gz") == _expected_names(_good_tree(tmp_path / "g"))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_unusual_but_valid_names_round_trip_through_the_library_and_system_tools(tmp_path, suffix):
    root = _good_tree(tmp_path / "src")
    archive = tmp_path / f"pkg.{suffix}"
    with ArchiveManager() as manager:
        manager.create_archive(root, archive)
        manager.extract_archive(archive, tmp_path / "ours")
    expected = _expected_names(root)
    assert _system_listing(archive) == expected
    assert _expected_names(tmp_path / "ours") == expected
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    if suffix == "zip":
        command = ["unzip", "-q", str(archive), "-d", str(theirs)]
    else:
        command = ["tar", "-xf", str(archive), "-C", str(theirs)]
    result = subprocess.run(command, capture_output=True, env=ENV)
    assert result.returncode == 0, result.stderr
    assert _expected_names(theirs) == expected
    for name in GOOD_NAMES:
        assert (theirs / name).read_bytes() == (root / name).read_bytes()
        assert (tmp_path / "ours" / name).read_bytes() == (root / name).read_bytes()


def test_the_cli_refuses_in_one_escaped_line(tmp_path):
    root, _ = _tree_with(tmp_path, BAD_NAMES["escape sequence"], as_link=False, in_folder=False)
    result = run_cli("create", root, tmp_path / "p.zip", text=False, env=LOCALE)
    assert result.returncode == 1
    lines = result.stderr.decode("utf-8").splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert "\x1b" not in lines[0] and "evil\\x1b[2J.txt" in lines[0]
    assert not (tmp_path / "p.zip").exists()


def test_the_zip_writer_itself_never_flags_undecodable_bytes_as_utf8(tmp_path, monkeypatch):
    """Even with the up-front screen switched off, a name that is not UTF-8 never reaches a
    zip under the UTF-8 flag: the writer refuses it, naming the file."""
    from archive_parallel import manager as manager_module
    from archive_parallel.errors import ArchiveError

    root, path = _tree_with(tmp_path, BAD_NAMES["not UTF-8"], as_link=False, in_folder=True)
    monkeypatch.setattr(manager_module, "screen_names", lambda entries, *_: entries)
    with ArchiveManager() as manager, pytest.raises(ArchiveError, match="not valid UTF-8"):
        manager.create_archive(root, tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()


def _venv_like_tree(root: Path) -> Path:
    """A tree as a virtual environment has it: links to the system's interpreter (absolute),
    and one bad name besides."""
    (root / "bin").mkdir(parents=True)
    (root / "main.py").write_text("print('hi')\n")
    for name in ("python", "python3", "python3.11"):
        (root / "bin" / name).symlink_to("/usr/bin/python3")
    (root / "lib").mkdir()
    (root / "lib" / "escape\x1b.txt").write_text("x\n")
    return root


def test_every_refused_name_is_named_in_one_error(tmp_path):
    root = _venv_like_tree(tmp_path / "app")
    archive = tmp_path / "app.tar.gz"
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, archive)
    error = excinfo.value
    names = [name for name, _ in error.entries]
    assert sorted(names) == ["bin/python", "bin/python3", "bin/python3.11", "lib/escape\x1b.txt"]
    assert error.source == str(root)
    assert (error.path, error.reason) == (str(root / names[0]), error.entries[0][1])
    message = str(error)
    assert message.startswith("cannot archive 4 source entries: ") and message.endswith(
        " and 1 more"
    )
    assert message.isprintable() and str(root / "bin") in message
    assert not archive.exists()


def test_one_refused_name_keeps_the_one_name_message(tmp_path):
    root = _good_tree(tmp_path / "src")
    (root / "abs").symlink_to("/etc/passwd")
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, tmp_path / "p.zip")
    assert excinfo.value.entries == [("abs", excinfo.value.reason)]
    assert str(excinfo.value) == f"cannot archive '{root / 'abs'}': {excinfo.value.reason}"


def test_the_old_constructor_still_works():
    error = UnarchivableNameError("src/x", "why")
    assert (error.path, error.reason, error.entries) == ("src/x", "why", [("src/x", "why")])
    assert str(error) == "cannot archive 'src/x': why" and isinstance(error, RuntimeError)


def test_skipped_names_say_they_were_unarchivable(tmp_path):
    root = _venv_like_tree(tmp_path / "app")
    with ArchiveManager() as manager:
        meta = manager.create_archive(
            root, tmp_path / "app.zip", ArchiveConfig(unarchivable_names="skip")
        )
    assert meta.files == ["main.py"]
    assert len(meta.skipped) == 4
    assert all(reason.startswith("unarchivable: ") for _, reason in meta.skipped)


#: names that every archive's rules let through but extraction refuses of its own: a
#: top-level name spelled like its work folders, and a file nested more than 256 folders deep
EXTRACTION_ONLY = {
    "reserved top-level name": (".ap-staging-notes/readme.txt", ".ap-staging-notes"),
    "257 folders deep": ("/".join(["a"] * 257) + "/f", "/".join(["a"] * 257)),
}


def _tree_holding(root: Path, name: str) -> Path:
    _good_tree(root)
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text("x")
    return root


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("what", list(EXTRACTION_ONLY))
def test_a_name_only_extraction_refuses_is_refused_up_front(tmp_path, suffix, what):
    name, refused = EXTRACTION_ONLY[what]
    root = _tree_holding(tmp_path / "src", name)
    archive = tmp_path / f"pkg.{suffix}"
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, archive)
    assert [n for n, _ in excinfo.value.entries] == [refused]
    assert "extraction would refuse its name" in excinfo.value.reason
    assert not archive.exists()


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("what", list(EXTRACTION_ONLY))
def test_skip_leaves_out_a_name_only_extraction_refuses(tmp_path, suffix, what):
    name, refused = EXTRACTION_ONLY[what]
    root = _tree_holding(tmp_path / "src", name)
    archive = tmp_path / f"pkg.{suffix}"
    with ArchiveManager() as manager:
        meta = manager.create_archive(root, archive, ArchiveConfig(unarchivable_names="skip"))
        manager.extract_archive(archive, tmp_path / "dest")
    assert [n for n, why in meta.skipped if why.startswith("unarchivable")] == [refused]
    assert not (tmp_path / "dest" / name).exists()
    assert (tmp_path / "dest" / "café.txt").exists()


def test_a_link_with_a_too_long_target_part_is_refused_for_its_length(tmp_path):
    root = _good_tree(tmp_path / "src")
    (root / "sub").mkdir()
    (root / "sub" / "lnk").symlink_to("x" * 256)
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, tmp_path / "p.tar.gz")
    assert excinfo.value.entries[0][0] == "sub/lnk"
    reason = excinfo.value.reason
    assert reason.endswith("path component longer than 255 bytes)") and "outside" not in reason


def _chain_leading_out(root: Path) -> Path:
    """``sub/up -> ..`` stays inside, and so does ``out -> sub/up/..`` read alone; through
    ``sub/up`` it climbs out, and ``via -> out`` with it. ``in -> sub/up/café.txt`` stays."""
    _good_tree(root)
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..")
    (root / "out").symlink_to("sub/up/..")
    (root / "via").symlink_to("out")
    (root / "in").symlink_to("sub/up/café.txt")
    return root


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_links_that_lead_out_through_other_links_are_refused_up_front(tmp_path, suffix):
    root = _chain_leading_out(tmp_path / "src")
    archive = tmp_path / f"pkg.{suffix}"
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, archive)
    assert [n for n, _ in excinfo.value.entries] == ["out", "via"]
    assert "resolves outside the destination" in excinfo.value.reason
    assert not archive.exists()

    with ArchiveManager() as manager:
        meta = manager.create_archive(root, archive, ArchiveConfig(unarchivable_names="skip"))
        manager.extract_archive(archive, tmp_path / "dest")
    assert [n for n, why in meta.skipped if why.startswith("unarchivable")] == ["out", "via"]
    assert os.readlink(tmp_path / "dest" / "in") == "sub/up/café.txt"
    assert not (tmp_path / "dest" / "out").is_symlink()


def test_a_chain_of_more_links_than_the_system_follows_is_refused_up_front(tmp_path):
    """45 links, each to the next, none with ``..``: extraction refuses the ones that go
    through more than 40, so creation does."""
    root = _good_tree(tmp_path / "src")
    for i in range(45):
        (root / f"l{i}").symlink_to(f"l{i + 1}" if i < 44 else "café.txt")
    with ArchiveManager() as manager, pytest.raises(UnarchivableNameError) as excinfo:
        manager.create_archive(root, tmp_path / "p.tar.gz")
    assert [n for n, _ in excinfo.value.entries] == [f"l{i}" for i in range(5)]  # 41 or more
    assert "more than 40 symlinks" in excinfo.value.reason
