"""The archive-parallel command, run as a subprocess."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import run_cli


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_create_verify_list_extract(sample_tree, tmp_path, snapshot, suffix):
    out = tmp_path / f"a.{suffix}"
    r = run_cli(
        "create", sample_tree, out, "--threads", "2", "--batch-size", "5", "--level", "3", "--json"
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["file_count"] > 0 and len(data["checksum_sha256"]) == 64
    r = run_cli("verify", out)
    assert r.returncode == 0 and "OK" in r.stdout
    r = run_cli("list", out, "--json")
    assert r.returncode == 0
    names = {m["name"].rstrip("/") for m in json.loads(r.stdout)["members"]}
    assert "dir0/file0.dat" in names
    r = run_cli("list", out)
    assert "dir0/file0.dat" in r.stdout
    r = run_cli("extract", out, tmp_path / "d", "--sequential")
    assert r.returncode == 0, r.stderr
    assert snapshot(tmp_path / "d") == snapshot(sample_tree)


def test_exclude_flag_replaces_defaults(sample_tree, tmp_path):
    out = tmp_path / "a.tar.gz"
    r = run_cli("create", sample_tree, out, "--exclude", "*.dat", "--exclude", "dir1", "--json")
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert not any(f.endswith(".dat") for f in files)
    assert ".DS_Store" in files  # the defaults were replaced


def test_checksum_command(sample_tree, tmp_path):
    import hashlib

    target = sample_tree / "big.bin"
    r = run_cli("checksum", target, "--json")
    assert r.returncode == 0
    entry = json.loads(r.stdout)["files"][str(target)]
    assert entry["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    r = run_cli("checksum", target)
    assert r.stdout.split()[0] == entry["sha256"]


def test_verify_fails_with_exit_1_on_damage(sample_tree, tmp_path):
    out = tmp_path / "a.tar.gz"
    assert run_cli("create", sample_tree, out).returncode == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    r = run_cli("verify", out)
    assert r.returncode == 1 and "FAILED" in r.stdout
    r = run_cli("extract", out, tmp_path / "d")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_unsafe_archive_exit_1(tmp_path):
    import io
    import tarfile

    out = tmp_path / "evil.tar"
    with tarfile.open(out, "w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    r = run_cli("extract", out, tmp_path / "d")
    assert r.returncode == 1
    assert "unsafe" in r.stderr and "../escape.txt" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "escape.txt").exists()


def test_usage_errors_exit_2(tmp_path):
    assert run_cli().returncode == 2
    assert run_cli("frobnicate").returncode == 2
    r = run_cli("create", tmp_path / "missing", tmp_path / "a.tar.gz")
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert run_cli("create", tmp_path, tmp_path / "a.tgz", "--threads", "0").returncode == 2
    assert run_cli("create", tmp_path, tmp_path / "a.tgz", "--level", "12").returncode == 2
    assert run_cli("verify", tmp_path / "missing.zip").returncode == 2


def test_verbose_logs_name_the_thread(sample_tree, tmp_path):
    r = run_cli("create", sample_tree, tmp_path / "a.tar.gz", "-v", "--threads", "2")
    assert r.returncode == 0
    assert "[MainThread]" in r.stderr and "DEBUG" in r.stderr


def test_not_a_terminal_means_no_progress_bar(sample_tree, tmp_path):
    r = run_cli("create", sample_tree, tmp_path / "a.tar.gz")
    assert r.returncode == 0 and "%" not in r.stderr and r.stderr == ""


def test_version_and_help():
    assert run_cli("--version").returncode == 0
    r = run_cli("--help")
    assert r.returncode == 0 and "create" in r.stdout


def test_extract_counts_what_it_wrote_not_what_the_side_file_says(sample_tree, tmp_path):
    """A side file another tool wrote, with the right SHA-256 but its own idea of the count:
    the line and the JSON say how many files the extraction wrote."""
    import tarfile

    out = tmp_path / "a.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(sample_tree, arcname=".")
    assert run_cli("create", sample_tree, tmp_path / "own.tar.gz").returncode == 0
    side = json.loads((tmp_path / "own.tar.gz.meta").read_text())
    side.update(filename=out.name, file_count=3, files=[], file_checksums=None, gzip_index=None)
    side["checksum_sha256"] = __import__("hashlib").sha256(out.read_bytes()).hexdigest()
    side["checksum_md5"] = None
    (tmp_path / "a.tar.gz.meta").write_text(json.dumps(side))

    r = run_cli("extract", out, tmp_path / "d")
    assert r.returncode == 0, r.stderr
    written = sum(1 for p in (tmp_path / "d").rglob("*") if p.is_symlink() or not p.is_dir())
    assert written > 3
    assert r.stdout == f"{out} -> {tmp_path / 'd'}: {written} files\n"
    r = run_cli("extract", out, tmp_path / "e", "--json")
    data = json.loads(r.stdout)
    assert (data["file_count"], data["extracted_files"]) == (3, written)
    assert data["extracted_bytes"] == sum(
        p.stat().st_size for p in (tmp_path / "e").rglob("*") if p.is_file() and not p.is_symlink()
    )
