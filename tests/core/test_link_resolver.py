"""``LinkResolver``: where the symlinks of a tree lead, as ``os.path.realpath`` says, each
link looked up once however many paths lead through it, and no further than the system
follows links (40)."""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path

import pytest

from archive_parallel.link_resolver import MAX_HOPS, LinkResolver, TooManyLinks

PARTS = ["..", ".", "a", "b", "f", "l0", "l1", "l2", "l3", "missing"]


def _random_tree(root: Path, rng: random.Random) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f").write_text("file")
    for i in range(6):
        folder = root / rng.choice(["", "a", "a/b"])
        target = "/".join(rng.choice(PARTS) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.1:
            target = "/" + target
        link = folder / f"l{i}"
        if not os.path.lexists(link):
            link.symlink_to(target)


def _system_follows(path: str) -> bool:
    """Whether the system resolves ``path`` without a loop: it exists, or is missing."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ENOENT
    return True


@pytest.mark.parametrize("seed", range(40))
def test_every_path_the_system_can_follow_resolves_as_realpath_says(tmp_path, seed):
    _random_tree(tmp_path, random.Random(seed))
    resolver = LinkResolver()
    checked = 0
    for folder, dirs, files in os.walk(tmp_path):
        for name in dirs + files:
            for tail in ("", "/x", "/../y"):
                path = os.path.join(folder, name) + tail
                if not _system_follows(path):
                    continue  # a loop: nothing can be reached through it
                assert resolver.resolve(path) == os.path.realpath(path), path
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("seed", range(20))
def test_links_read_from_a_mapping_resolve_as_they_do_on_disk(tmp_path, seed):
    """A tree known only as {link path: target} (an archive's members, before extraction)
    resolves exactly as the same tree on disk, loops and chains included."""
    root = tmp_path.resolve()
    _random_tree(root, random.Random(seed))
    links = {}
    paths = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            paths += [path + tail for tail in ("", "/x", "/../y")]
            if os.path.islink(path):
                links[path] = os.readlink(path)
    on_disk, mapped = LinkResolver(), LinkResolver(links.get)
    for path in paths:
        try:
            expected = on_disk.resolve(path)
        except TooManyLinks:
            with pytest.raises(TooManyLinks):
                mapped.resolve(path)
            continue
        assert mapped.resolve(path) == expected, path


def test_each_link_and_each_plain_path_is_looked_up_once(tmp_path, monkeypatch):
    """A chain of 30 links whose targets are padded with 800 'a/../' and 400 links to its
    head: os.path.realpath would look up 30 x 800 names for each of the 430 links."""
    (tmp_path / "f").write_text("x")
    pad = "a/../" * 800
    previous = "f"
    for i in range(30):
        (tmp_path / f"l{i}").symlink_to(pad + previous)
        previous = f"l{i}"
    for j in range(400):
        (tmp_path / f"p{j}").symlink_to(pad + previous)
    expected = str(tmp_path.resolve() / "f")
    looked_up: list[str] = []
    real_lstat = os.lstat
    monkeypatch.setattr(
        os, "lstat", lambda path, **kw: looked_up.append(path) or real_lstat(path, **kw)
    )
    resolver = LinkResolver()
    for j in range(400):
        assert resolver.resolve(str(tmp_path / f"p{j}")) == expected
    assert len(looked_up) == len(set(looked_up)) < 1000


@pytest.mark.parametrize("length", [MAX_HOPS, MAX_HOPS + 1])
def test_a_chain_is_followed_as_far_as_the_system_follows_it(tmp_path, length):
    (tmp_path / f"s{length}").write_text("end")
    for i in range(length):
        (tmp_path / f"s{i}").symlink_to(f"s{i + 1}")
    resolver = LinkResolver()
    if length <= MAX_HOPS:
        assert resolver.resolve(str(tmp_path / "s0")) == str(tmp_path / f"s{length}")
        assert (tmp_path / "s0").read_text() == "end"
    else:
        with pytest.raises(TooManyLinks):
            resolver.resolve(str(tmp_path / "s0"))
        with pytest.raises(OSError):  # the system gives up too
            (tmp_path / "s0").read_text()


def test_links_met_from_the_far_end_still_count_every_link(tmp_path):
    """The resolver remembers each link; resolving the chain from its end first must not
    let the head through with only one link counted."""
    length = MAX_HOPS + 5
    (tmp_path / f"s{length}").write_text("end")
    for i in range(length):
        (tmp_path / f"s{i}").symlink_to(f"s{i + 1}")
    resolver = LinkResolver()
    for i in reversed(range(6, length)):
        resolver.resolve(str(tmp_path / f"s{i}"))
    with pytest.raises(TooManyLinks):
        resolver.resolve(str(tmp_path / "s0"))


def test_a_chain_far_deeper_than_the_recursion_limit_is_too_many_links(tmp_path):
    (tmp_path / "s3000").write_text("end")
    for i in range(3000):
        (tmp_path / f"s{i}").symlink_to(f"s{i + 1}")
    with pytest.raises(TooManyLinks):
        LinkResolver().resolve(str(tmp_path / "s0"))
