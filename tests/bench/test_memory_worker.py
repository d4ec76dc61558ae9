"""The memory run: memray capture, the getrusage fallback, and RSS units."""

import json

import pytest

from bench import memory_worker


def walk_spec(tree, scratch, variant="reference"):
    from bench.grid import Cell

    cell = Cell("walk", "", "tiny", 1.0, variant, 1, 0, "zlib")
    return {
        "cell": cell.to_dict(),
        "tree": str(tree),
        "input_archive": None,
        "scratch": str(scratch),
    }


def test_rusage_units():
    assert memory_worker.rusage_peak_bytes(1000, platform="linux") == 1024000
    assert memory_worker.rusage_peak_bytes(1000, platform="darwin") == 1000
    assert memory_worker.parse_vmhwm("Name: x\nVmHWM:\t  2048 kB\n") == 2048 * 1024


def test_fallback_to_rusage_when_forced(small_tree, tmp_path, monkeypatch):
    monkeypatch.setenv(memory_worker.FORCE_RUSAGE_ENV, "1")
    capture = tmp_path / "cap.bin"
    result = memory_worker.measure(walk_spec(small_tree, tmp_path / "s"), capture)
    assert result["memory_source"] == "rusage"
    assert result["peak_heap_bytes"] is None
    assert result["peak_rss_bytes"] > 1_000_000
    assert "memray unavailable" in result["memory_note"]
    assert result["invalid_reason"] == ""
    assert not capture.exists()


def test_fallback_when_memray_cannot_be_imported(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_memray(name, *args, **kwargs):
        if name == "memray":
            raise ImportError("no wheels for armv7l")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_memray)
    assert memory_worker.load_memray() is None


def test_memray_capture(small_tree, tmp_path, monkeypatch):
    pytest.importorskip("memray")
    monkeypatch.delenv(memory_worker.FORCE_RUSAGE_ENV, raising=False)
    capture = tmp_path / "cap.bin"
    out = tmp_path / "result.json"
    spec = walk_spec(small_tree, tmp_path / "s")
    assert memory_worker.main([json.dumps(spec), str(out), "--memray", str(capture)]) == 0
    result = json.loads(out.read_text())
    assert result["memory_source"] == "memray"
    assert result["peak_heap_bytes"] > 0 and result["total_allocations"] > 0
    assert capture.exists()
