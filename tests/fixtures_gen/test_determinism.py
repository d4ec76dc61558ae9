"""Same profile, scale and seed -> byte-identical trees, whatever the process or thread count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fixtures_gen as fg

REPO_ROOT = Path(__file__).resolve().parents[2]

# Pinned digests: they change only when the generator changes on purpose (then bump
# manifest.GENERATOR_VERSION and update them). A platform or Python version that produced other
# bytes would fail here, which is the cross-platform guarantee. These were checked identical
# on CPython 3.11.2, 3.11.7, 3.12.1 and 3.13.0 (Linux x86-64).
PINNED = {
    ("small", 0.05, 1): "90213bd6372c08732801cd12d51058f56ae8a20d2db2abd1a177fc1bc91bf0ec",
    ("package", 0.1, 3): "215450e7c68876c82357b7e1a80ec57c71660bb95bdbce06ff095f17b45356e4",
    ("large", 0.01, 2): "0dd9217678f01c528be23bef46da9220b750ad38b11f020d44475ca2059befb3",
}


def test_same_seed_same_digest_twice(tmp_path: Path) -> None:
    first = fg.make_tree("package", tmp_path / "a", scale=0.03, seed=11, max_workers=1)
    second = fg.make_tree("package", tmp_path / "b", scale=0.03, seed=11, max_workers=4)
    assert first.digest == second.digest
    assert [entry.to_dict() for entry in first.files] == [e.to_dict() for e in second.files]


def test_different_seeds_differ(tmp_path: Path) -> None:
    first = fg.make_tree("small", tmp_path / "a", scale=0.1, seed=1)
    second = fg.make_tree("small", tmp_path / "b", scale=0.1, seed=2)
    assert first.digest != second.digest
    assert {e.sha256 for e in first.files if e.kind == "file"}.isdisjoint(
        {e.sha256 for e in second.files if e.kind == "file" and e.size}
    )


def _digest_in_subprocess(out: Path, hash_seed: str) -> str:
    code = (
        "import sys, fixtures_gen as fg;"
        "print(fg.make_tree('many-tiny', sys.argv[1], scale=0.01, seed=5).digest)"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_same_digest_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    digests = {
        _digest_in_subprocess(tmp_path / f"t{hash_seed}", hash_seed)
        for hash_seed in ("0", "1", "4242")
    }
    in_process = fg.make_tree("many-tiny", tmp_path / "here", scale=0.01, seed=5).digest
    assert digests == {in_process}


def test_pinned_digests(tmp_path: Path) -> None:
    for (profile, scale, seed), digest in PINNED.items():
        manifest = fg.make_tree(profile, tmp_path / profile, scale=scale, seed=seed)
        assert manifest.digest == digest


def test_plan_is_deterministic_and_seed_dependent() -> None:
    profile = fg.get_profile("large")
    first = fg.plan_tree(profile, 0.05, 9)
    assert first == fg.plan_tree(profile, 0.05, 9)
    assert first != fg.plan_tree(profile, 0.05, 10)


def test_manifest_digest_matches_files_on_disk(tmp_path: Path) -> None:
    manifest = fg.make_tree("small", tmp_path / "t", scale=0.1, seed=1)
    loaded = fg.load_manifest(tmp_path / "t")
    assert loaded.digest == manifest.digest
    assert loaded.to_dict() == manifest.to_dict()
    from fixtures_gen.verify import sha256_of

    for entry in loaded.files:
        if entry.kind == "file":
            assert sha256_of(tmp_path / "t" / entry.path) == entry.sha256
            assert (tmp_path / "t" / entry.path).stat().st_size == entry.size
