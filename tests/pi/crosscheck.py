"""Archives made on one machine, extracted on another: the cross-architecture check.

``scripts/test-pi.sh`` runs this on both sides of an emulated Raspberry Pi root::

    python tests/pi/crosscheck.py make DIR     # generate a fixture tree, archive it into DIR
    python tests/pi/crosscheck.py check DIR    # extract DIR's archives here, compare

``make`` writes reproducible archives of one pinned fixture tree (every format) and a snapshot of
that tree (path, kind, mode, size, SHA-256, link target). ``check`` regenerates the same tree
locally, archives it the same way and extracts the other side's archives: the archives must be
byte-identical and every extracted entry must match the snapshot. ``digests`` prints the pinned
fixture digests this machine produces. The library is standard library only, so this runs on a
bare Pi.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
try:  # the installed package, as a user has it
    import archive_parallel
except ImportError:  # a plain checkout
    sys.path.insert(0, str(REPO_ROOT))
    import archive_parallel

import fixtures_gen as fg  # noqa: E402

ArchiveConfig, ArchiveManager = archive_parallel.ArchiveConfig, archive_parallel.ArchiveManager

TREE = ("package", 0.05, 7)  # profile, scale, seed: small, with links, folders and odd names
FORMATS = ("tar.gz", "tar.bz2", "tar.xz", "zip")
SNAPSHOT = "tree.snapshot.json"


def snapshot(root: Path) -> dict[str, list]:
    """Every entry under ``root``: kind, permission bits, size, SHA-256 or link target."""
    out: dict[str, list] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ["link", 0, 0, os.readlink(path)]
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ["dir", stat.S_IMODE(info.st_mode), 0, ""]
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ["file", stat.S_IMODE(info.st_mode), info.st_size, digest]
    return out


def _archives(tree: Path, out: Path) -> dict[str, str]:
    config = ArchiveConfig(reproducible=True, include_metadata=False, exclude_patterns=[])
    manager = ArchiveManager(config)
    digests = {}
    for suffix in FORMATS:
        archive = out / f"tree.{suffix}"
        meta = manager.create_archive(tree, archive)
        digests[suffix] = meta.checksum_sha256
    return digests


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    profile, scale, seed = TREE
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work, "tree")
        fg.make_tree(profile, tree, scale=scale, seed=seed)
        (out / SNAPSHOT).write_text(json.dumps(snapshot(tree), sort_keys=True), encoding="utf-8")
        _archives(tree, out)


def check(incoming: Path) -> str:
    """Extract ``incoming``'s archives here; raise SystemExit naming the first difference."""
    expected = json.loads((incoming / SNAPSHOT).read_text(encoding="utf-8"))
    profile, scale, seed = TREE
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work, "tree")
        fg.make_tree(profile, tree, scale=scale, seed=seed)
        if snapshot(tree) != expected:
            raise SystemExit("the fixture tree generated here differs from the other side's")
        own = _archives(tree, Path(work))
        for suffix in FORMATS:
            archive = incoming / f"tree.{suffix}"
            theirs = hashlib.sha256(archive.read_bytes()).hexdigest()
            if theirs != own[suffix]:
                raise SystemExit(f"{archive.name}: bytes differ from the one made here")
            dest = Path(work, f"out-{suffix}")
            ArchiveManager(ArchiveConfig(exclude_patterns=[])).extract_archive(archive, dest)
            got = snapshot(dest)
            if got != expected:
                keys = expected.keys() | got.keys()
                wrong = sorted(k for k in keys if expected.get(k) != got.get(k))
                raise SystemExit(f"{archive.name}: extracted entries differ: {wrong[:3]}")
    return f"{len(FORMATS)} archives ({len(expected)} entries) byte-identical and extracted"


def pinned_digests() -> dict[str, str]:
    """The digests of the fixture trees the determinism test pins, made on this machine."""
    spec = REPO_ROOT / "tests" / "fixtures_gen" / "test_determinism.py"
    namespace: dict = {"__file__": str(spec), "__name__": "pinned"}
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    out = {}
    with tempfile.TemporaryDirectory() as work:
        for (profile, scale, seed), pinned in namespace["PINNED"].items():
            made = fg.make_tree(profile, Path(work, profile), scale=scale, seed=seed).digest
            out[f"{profile}:{scale}:{seed}"] = "match" if made == pinned else made
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("make", "check", "digests"):
        print("usage: crosscheck.py make|check|digests DIR", file=sys.stderr)
        return 2
    command, folder = argv[0], Path(argv[1])
    if command == "make":
        make(folder)
    elif command == "check":
        print(check(folder))
    else:
        digests = pinned_digests()
        folder.write_text(json.dumps(digests, sort_keys=True), encoding="utf-8")
        wrong = [k for k, v in digests.items() if v != "match"]
        print(f"fixture digests {len(digests) - len(wrong)}/{len(digests)} = pinned")
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
