"""The fixtures-gen command line: list, make, verify, describe, and python -m."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fixtures_gen as fg
from fixtures_gen.cli import main
from tests.cli_runner import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_every_profile_with_counts(capsys) -> None:
    assert main(["list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(fg.PROFILES)
    assert rows["large"]["files"] == 10_000
    assert rows["large"]["bytes"] == fg.estimate_bytes("large")
    assert main(["list", "--scale", "0.1"]) == 0
    assert "many-tiny" in capsys.readouterr().out


def test_make_verify_describe(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tree"
    assert main(["make", "small", "--scale", "0.1", "--seed", "3", "--out", str(out)]) == 0
    assert fg.load_manifest(out).digest in capsys.readouterr().out
    assert main(["verify", str(out)]) == 0
    assert "OK" in capsys.readouterr().out
    # a copy of the manifest under any name is read as it is
    copy = tmp_path / "mine.json"
    copy.write_bytes(fg.manifest_path_for(out).read_bytes())
    assert main(["verify", str(out), "--manifest", str(copy)]) == 0
    assert "OK" in capsys.readouterr().out
    # and a missing one is named as given
    assert main(["verify", str(out), "--manifest", str(tmp_path / "nosuch.json")]) == 2
    assert f"no manifest at {tmp_path / 'nosuch.json'}\n" in capsys.readouterr().err

    assert main(["describe", str(out), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["file_count"] == fg.load_manifest(out).file_count
    assert described["manifest"]["seed"] == 3
    assert described["estimated_gzip_ratio"] > 1.0
    assert main(["describe", str(out)]) == 0
    assert "size histogram" in capsys.readouterr().out

    victim = next(e for e in fg.load_manifest(out).files if e.kind == "file")
    (out / victim.path).unlink()
    assert main(["verify", str(out)]) == 1
    assert f"missing: {victim.path}" in capsys.readouterr().out


def test_make_with_a_custom_profile_file(tmp_path: Path) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text(
        'name = "mine"\n[[groups]]\nname = "a"\ncount = 4\nsize = 1000\ncontent = "log"\n'
    )
    assert main(["make", str(profile), "--out", str(tmp_path / "t")]) == 0
    assert fg.load_manifest(tmp_path / "t").total_bytes == 4000


def test_errors_are_reported_not_raised(tmp_path: Path, capsys) -> None:
    assert main(["make", "no-such-profile", "--out", str(tmp_path / "t")]) == 2
    assert "unknown profile" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command() -> None:
    result = run_cli("list", module="fixtures_gen", cwd=REPO_ROOT, check=True)
    assert "package" in result.stdout


def test_bench_disk_runs_and_cleans_up(tmp_path: Path, capsys) -> None:
    scratch = tmp_path / "scratch"
    args = ["bench-disk", "--profile", "small", "--scale", "0.05", "--rounds", "1"]
    assert main([*args, "--dir", str(scratch), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tree_bytes"] == fg.estimate_bytes("small", 0.05)
    assert result["dd_command"].startswith("dd if=/dev/zero")
    assert {"ratio", "ratio_to_plain", "dd_mb_per_s", "generate_mb_per_s"} <= set(result)
    assert list(tmp_path.iterdir()) == []  # the missing --dir was made and removed again


BAD_SCALES = [
    ["make", "small", "--scale", "inf"],
    ["make", "small", "--scale", "nan"],
    ["make", "small", "--scale", "0"],
    ["list", "--scale", "-1"],
    ["list", "--scale", "0"],
    ["bench-disk", "--scale", "inf"],
]


@pytest.mark.parametrize("args", BAD_SCALES, ids=[" ".join(a) for a in BAD_SCALES])
def test_a_bad_scale_is_a_one_line_usage_error_before_any_work(
    args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "t"
    where = ["--out", str(out)] if args[0] == "make" else []
    where += ["--dir", str(out)] if args[0] == "bench-disk" else []
    done = run_cli(*args, *where, module="fixtures_gen", cwd=REPO_ROOT)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fixtures-gen ") and "--scale" in lines[0]
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_make_tree_refuses_an_infinite_scale(tmp_path: Path) -> None:
    with pytest.raises(fg.FixturesError, match="finite"):
        fg.make_tree("small", tmp_path / "t", scale=float("inf"))
    assert list(tmp_path.iterdir()) == []
