"""``--json`` on failure: every command prints one JSON object on stdout, with ``error``
(``kind``, ``message``) and ``exit_code`` (the process's exit status), besides its one line on
stderr; a command that got as far as a result (``verify``, ``checksum``) keeps its own keys."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.cli_runner import run_cli


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("hello\n" * 100)
    good = tmp_path / "good.tar.gz"
    assert run_cli("create", src, good).returncode == 0
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(good.read_bytes()[:60])
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    unsupported = tmp_path / "unsupported.tar.lz4"
    unsupported.write_bytes(b"\x04\x22\x4d\x18" + bytes(100))  # lz4's magic
    return {
        "src": src,
        "damaged": damaged,
        "hostile": hostile,
        "unsupported": unsupported,
        "tmp": tmp_path,
    }


CASES = {
    "list damaged": (["list", "{damaged}"], 1, "damaged archive"),
    "extract damaged": (["extract", "{damaged}", "{tmp}/d"], 1, "damaged archive"),
    "extract hostile": (["extract", "{hostile}", "{tmp}/d"], 1, "unsafe archive"),
    "verify damaged": (["verify", "{damaged}"], 1, "damaged archive"),
    "verify hostile": (["verify", "{hostile}"], 1, "unsafe archive"),
    "extract unsupported": (["extract", "{unsupported}", "{tmp}/d"], 1, "unsupported archive"),
    "verify unsupported": (["verify", "{unsupported}"], 1, "unsupported archive"),
    "create from nowhere": (["create", "{tmp}/missing", "{tmp}/b.tar.gz"], 2, "usage"),
    "create a file": (["create", "{damaged}", "{tmp}/b.tar.gz"], 1, "error"),
    "checksum a folder": (["checksum", "{src}"], 1, "error"),
    "bad option value": (["create", "{src}", "{tmp}/b.tar.gz", "--threads", "0"], 2, "usage"),
    "argparse refuses": (["list"], 2, "usage"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failure_prints_a_json_error(files, case):
    args, code, kind = CASES[case]
    r = run_cli(*(a.format(**files) for a in args), "--json")
    assert r.returncode == code, r.stderr
    data = json.loads(r.stdout)
    assert data["exit_code"] == code
    assert data["error"]["kind"] == kind
    assert data["error"]["message"] and "\n" not in data["error"]["message"]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    label = "error" if kind == "usage" else kind
    assert lines[0] == f"archive-parallel: {label}: {data['error']['message']}"
    assert not (files["tmp"] / "d").exists() and not (files["tmp"] / "b.tar.gz").exists()


def test_verify_and_checksum_keep_their_own_keys(files):
    r = run_cli("verify", files["damaged"], "--json")
    data = json.loads(r.stdout)
    assert data["ok"] is False and data["reason"] == data["error"]["message"]
    r = run_cli("checksum", files["src"] / "a.txt", files["src"], "--json")
    data = json.loads(r.stdout)
    assert data["unreadable"] == [str(files["src"])]
    assert list(data["files"]) == [str(files["src"] / "a.txt")]


def test_success_has_no_error_key(files):
    r = run_cli("list", files["tmp"] / "good.tar.gz", "--json")
    assert r.returncode == 0
    assert "error" not in json.loads(r.stdout)


def test_without_json_stdout_stays_empty_on_failure(files):
    r = run_cli("list", files["damaged"])
    assert r.returncode == 1 and r.stdout == ""
