"""The macOS branches, forced on this machine: what a Mac answers differs from Linux in ways
no Linux run would exercise (no ``os.sched_getaffinity``, ``ru_maxrss`` in bytes, ``sysctl``
instead of ``/proc``, Rosetta, and ``spawn`` as the default multiprocessing start method).
Probe answers are the recorded Apple M4 samples."""

from __future__ import annotations

import ast
import os
import platform
import sys
from pathlib import Path

import pytest

from archive_parallel import platform_info
from bench import emulation, fingerprint, memory_worker

REPO_ROOT = Path(__file__).resolve().parents[2]

M4_SYSCTL = {
    ("sysctl", "-n", "machdep.cpu.brand_string"): "Apple M4",
    ("sysctl", "-n", "hw.perflevel0.physicalcpu"): "4",
    ("sysctl", "-n", "hw.perflevel1.physicalcpu"): "6",
    ("sysctl", "-n", "hw.memsize"): "17179869184",
    ("sw_vers", "-productVersion"): "15.1",
}


@pytest.fixture
def on_a_mac(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python as it looks on Apple silicon: Darwin, arm64, no affinity call, no /proc."""
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 10)


def test_usable_cpus_without_sched_getaffinity(on_a_mac: None) -> None:
    """Every logical CPU counts, and there is no cgroup quota (the count is read afresh here
    and forgotten after, so neither this machine's nor the Mac's leaks)."""
    assert not hasattr(os, "sched_getaffinity")
    platform_info.usable_cpu_count.cache_clear()
    try:
        assert platform_info.usable_cpu_count() == 10
    finally:
        platform_info.usable_cpu_count.cache_clear()


def test_platform_key_of_a_mac(on_a_mac: None) -> None:
    info = platform_info.identify("Darwin", "arm64", 10, None, None)
    assert (info.key, info.name, info.is_raspberry_pi) == (
        "macos-arm64",
        "macOS Apple silicon",
        False,
    )


def test_ru_maxrss_is_bytes_on_a_mac() -> None:
    assert memory_worker.rusage_peak_bytes(123_456_789, platform="darwin") == 123_456_789
    assert memory_worker.rusage_peak_bytes(120_563, platform="linux") == 120_563 * 1024


@pytest.mark.parametrize(("translated", "emulated"), [("0", False), (None, False), ("1", True)])
def test_fingerprint_from_sysctl(
    on_a_mac: None, monkeypatch: pytest.MonkeyPatch, translated: str | None, emulated: bool
) -> None:
    asked: list[tuple[str, ...]] = []

    def probe(argv: list[str]) -> str | None:
        asked.append(tuple(argv))
        return M4_SYSCTL.get(tuple(argv))

    monkeypatch.setattr(emulation, "_sysctl", lambda name: translated)
    fp = fingerprint.collect_fingerprint(".", probe=probe)
    assert fp["cpu_model"] == "Apple M4"
    assert (fp["cores_performance"], fp["cores_efficiency"]) == (4, 6)
    assert fp["memory_bytes"] == 17179869184
    assert fp["os_version"] == "15.1" and fp["cores_usable"] == 10
    assert fp["is_raspberry_pi"] is False
    assert fp["emulated"] is emulated
    assert fp["platform_key"] == ("macos-arm64-emulated" if emulated else "macos-arm64")
    assert all(argv[0] in ("sysctl", "sw_vers", "df") for argv in asked)  # no /proc, no vcgencmd


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_depends_on_the_fork_start_method() -> None:
    """macOS starts multiprocessing children with ``spawn`` (no inherited state). The library
    and the harness use threads and plain subprocesses instead; a module that starts using
    multiprocessing must say ``get_context("spawn")`` and be tested under it."""
    offenders = []
    for package in ("archive_parallel", "bench", "fixtures_gen", "reports"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            found = {
                name
                for name in _imports(path)
                if name.startswith("multiprocessing")
                or name.endswith("ProcessPoolExecutor")
                or name == "os.fork"
            }
            if found and "get_context" not in path.read_text(encoding="utf-8"):
                offenders.append(f"{path.relative_to(REPO_ROOT)}: {sorted(found)}")
    assert offenders == []
