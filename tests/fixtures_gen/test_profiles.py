"""Profiles: documented counts and sizes at scale 1 (recipe arithmetic), scaling, custom files."""

from __future__ import annotations

import json
import posixpath
import unicodedata
from pathlib import Path

import pytest

import fixtures_gen as fg
from fixtures_gen.plan import scaled_extra

EXPECTED_PROFILES = {"small", "medium", "large", "many-tiny", "few-huge", "package"}


def test_builtin_profiles_exist() -> None:
    assert set(fg.PROFILES) == EXPECTED_PROFILES
    assert fg.get_profile("large") is fg.PROFILES["large"]
    with pytest.raises(fg.FixturesError, match="unknown profile"):
        fg.get_profile("nope")


@pytest.mark.parametrize("name", sorted(EXPECTED_PROFILES))
def test_scale_one_matches_documented_counts_within_5_percent(name: str) -> None:
    profile = fg.get_profile(name)
    files = fg.estimate_file_count(profile, 1.0)
    size = fg.estimate_bytes(profile, 1.0)
    assert abs(files - profile.documented_files) <= 0.05 * profile.documented_files
    assert abs(size - profile.documented_bytes) <= 0.05 * profile.documented_bytes
    # The estimate is the plan itself, not an approximation of it (planning writes nothing).
    plan = fg.plan_tree(profile, 1.0, seed=0)
    assert len(plan.files) == files
    assert plan.total_bytes == size


def test_issue_figures_at_scale_one() -> None:
    assert 45 <= fg.estimate_file_count("small") <= 55
    assert fg.estimate_bytes("small") == pytest.approx(1e6, rel=0.05)
    assert fg.estimate_file_count("medium") == pytest.approx(1000, rel=0.05)
    assert fg.estimate_bytes("medium") == pytest.approx(150e6, rel=0.05)
    assert fg.estimate_file_count("large") == pytest.approx(10_000, rel=0.05)
    assert fg.estimate_bytes("large") == pytest.approx(1e9, rel=0.05)
    tiny = fg.plan_tree(fg.get_profile("many-tiny"), 1.0, 0)
    assert len(tiny.files) >= 20_000
    assert max(f.size for f in tiny.files) < 2048
    huge = fg.plan_tree(fg.get_profile("few-huge"), 1.0, 0)
    assert 2 <= len(huge.files) <= 3
    assert min(f.size for f in huge.files) >= 500e6


def test_medium_is_two_thirds_text_one_third_random_by_bytes() -> None:
    plan = fg.plan_tree(fg.get_profile("medium"), 1.0, 0)
    random_bytes = sum(f.size for f in plan.files if f.content == "random")
    assert random_bytes / plan.total_bytes == pytest.approx(1 / 3, abs=0.01)
    text_bytes = sum(f.size for f in plan.files if f.content in ("text", "code", "log"))
    assert text_bytes / plan.total_bytes == pytest.approx(2 / 3, abs=0.01)


@pytest.mark.parametrize("scale", [0.01, 0.05, 0.5, 2.0])
def test_scale_arithmetic(scale: float) -> None:
    for profile in fg.PROFILES.values():
        counts = profile.group_counts(scale)
        for group in profile.groups:
            expected = (
                group.count
                if group.scale_by == "size"
                else max(group.min_count, round(group.count * scale))
            )
            if group.mirror:
                expected = min(expected, counts[group.mirror])
            assert counts[group.name] == expected
        plan = fg.plan_tree(profile, scale, seed=1)
        assert len(plan.files) == fg.estimate_file_count(profile, scale)
        assert plan.total_bytes == fg.estimate_bytes(profile, scale)
        assert len(plan.links) == scaled_extra(profile.symlinks, scale)


def test_count_scaling_keeps_file_sizes_and_size_scaling_keeps_counts() -> None:
    large_1 = fg.estimate_bytes("large", 1.0) / fg.estimate_file_count("large", 1.0)
    large_small = fg.estimate_bytes("large", 0.1) / fg.estimate_file_count("large", 0.1)
    assert large_small == pytest.approx(large_1, rel=0.05)
    assert fg.estimate_file_count("few-huge", 0.01) == 3
    assert fg.estimate_bytes("few-huge", 0.01) == pytest.approx(22.5e6, rel=0.001)


def test_generated_tree_matches_estimates(package_tree) -> None:
    _, manifest = package_tree
    assert manifest.file_count == fg.estimate_file_count("package", 0.05)
    assert manifest.total_bytes == fg.estimate_bytes("package", 0.05)


def test_package_has_the_realistic_oddities(package_tree) -> None:
    out, manifest = package_tree
    files = [e for e in manifest.files if e.kind == "file"]
    names = {posixpath.basename(e.path) for e in files}
    assert ".DS_Store" in names and "Thumbs.db" in names
    assert any("/__pycache__/" in e.path and e.path.endswith(".pyc") for e in files)
    assert any(e.path.startswith("venv/lib/python3.11/site-packages/") for e in files)
    assert any(e.size == 0 for e in files)
    links = [e for e in manifest.files if e.kind == "symlink"]
    assert links and all((out / e.path).is_symlink() and (out / e.path).is_file() for e in links)
    dirs = {e.path for e in manifest.files if e.kind == "dir"}
    assert any(
        not any(p.startswith(d + "/") for p in (e.path for e in manifest.files)) for d in dirs
    ), "an empty folder"
    assert any(not e.path.isascii() for e in files), "a unicode name"
    assert any(len(posixpath.basename(e.path)) > 100 for e in files), "a long name"
    assert any(len(e.path) > 255 for e in files), "a long path"


@pytest.mark.parametrize("name", sorted(EXPECTED_PROFILES))
def test_names_are_portable(name: str) -> None:
    plan = fg.plan_tree(fg.get_profile(name), 1.0 if name != "few-huge" else 0.01, seed=3)
    paths = [f.path for f in plan.files] + [link.path for link in plan.links] + list(plan.dirs)
    folded = [unicodedata.normalize("NFC", p).casefold() for p in paths]
    assert len(set(folded)) == len(folded), "names differing only in case"
    for path in paths:
        assert unicodedata.normalize("NFC", path) == path
        assert not set(path) & set('\\:*?"<>|')
        assert all(0 < len(part.encode()) <= 200 for part in path.split("/"))


CUSTOM = {
    "name": "custom",
    "description": "a custom profile",
    "symlinks": 1,
    "groups": [
        {
            "name": "notes",
            "count": 10,
            "size": {"dist": "uniform", "min": 100, "max": 300},
            "content": "text",
            "root": "notes",
            "depth": 2,
        },
        {"name": "blobs", "count": 3, "size": 5000, "content": "ratio:2.5", "extensions": [".bin"]},
    ],
}


def test_custom_profile_from_json_and_toml(tmp_path: Path) -> None:
    json_path = tmp_path / "custom.json"
    json_path.write_text(json.dumps(CUSTOM))
    toml_path = tmp_path / "custom.toml"
    toml_path.write_text(
        'name = "custom"\ndescription = "a custom profile"\nsymlinks = 1\n\n'
        '[[groups]]\nname = "notes"\ncount = 10\ncontent = "text"\nroot = "notes"\ndepth = 2\n'
        'size = { dist = "uniform", min = 100, max = 300 }\n\n'
        '[[groups]]\nname = "blobs"\ncount = 3\nsize = 5000\ncontent = "ratio:2.5"\n'
        'extensions = [".bin"]\n'
    )
    from_json = fg.load_profile_file(json_path)
    from_toml = fg.load_profile_file(toml_path)
    assert from_json == from_toml
    assert fg.estimate_file_count(from_json) == 13
    assert fg.estimate_bytes(from_json) == 10 * 200 + 3 * 5000
    manifest = fg.make_tree(from_toml, tmp_path / "tree", seed=1)
    assert manifest.file_count == 13 and manifest.total_bytes == 17_000
    assert fg.Profile.from_dict(from_json.to_dict()) == from_json


def test_invalid_custom_profile_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "groups": [{"name": "a", "count": 1, "colour": 2}]}))
    with pytest.raises(fg.FixturesError, match="unknown keys"):
        fg.load_profile_file(bad)
    bad.write_text(
        json.dumps({"name": "x", "groups": [{"name": "a", "count": 1, "content": "plasma"}]})
    )
    with pytest.raises(fg.FixturesError, match="plasma"):
        fg.load_profile_file(bad)
