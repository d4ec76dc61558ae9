"""Memory of one cell, run as ``python -m bench.memory_worker SPEC RESULT_JSON [--memray BIN]``.

A process of its own, apart from timing (a tracker slows what it watches). With memray the
operation runs once inside ``memray.Tracker`` (Python allocators, no native traces, no fork
following) and the capture's peak heap and allocation count are read back; peak RSS comes
from ``getrusage`` either way (KiB on Linux, bytes on macOS). Where memray cannot be imported
(32-bit Raspberry Pi OS has no wheels), or ``ARCHIVE_BENCH_FORCE_RUSAGE=1`` asks for it, only
RSS is measured and ``memory_source`` says ``rusage``. (On Linux the peak RSS is read
from ``VmHWM``, see ``peak_rss_bytes``.) The output is verified afterwards.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORCE_RUSAGE_ENV = "ARCHIVE_BENCH_FORCE_RUSAGE"
#: below this tracked duration, one untracked run estimates the operation's real duration
#: (above it, even a tracker slowing the work fivefold leaves an operation longer than the
#: presets' ``min_time``, so pyperf needs one loop and the estimate would change nothing)
ESTIMATE_RERUN_BELOW_S = 0.5
#: variants whose work runs in another program
EXTERNAL_VARIANTS = ("pigz",)


def rusage_peak_bytes(maxrss: int | None = None, platform: str = sys.platform) -> int:
    """ru_maxrss in bytes: the kernel reports KiB on Linux and bytes on macOS."""
    if maxrss is None:
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss) if platform == "darwin" else int(maxrss) * 1024


def parse_vmhwm(status_text: str) -> int | None:
    """``VmHWM:  123456 kB`` of /proc/self/status -> bytes."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024
    return None


def peak_rss_bytes() -> int:
    """Peak RSS of this process. On Linux ru_maxrss keeps the parent's peak across fork and
    exec (a child of a big harness would report the harness), so /proc/self/status VmHWM,
    which starts afresh with the new program, is preferred where it exists."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            hwm = parse_vmhwm(handle.read())
    except OSError:
        hwm = None
    return hwm if hwm is not None else rusage_peak_bytes()


def load_memray(force_rusage: bool = False) -> Any | None:
    """The memray module, or None when it is unavailable or the fallback is forced."""
    if force_rusage or os.environ.get(FORCE_RUSAGE_ENV) == "1":
        return None
    try:
        import memray
    except ImportError:
        return None
    return memray


def measure(spec: dict[str, Any], capture: Path | None, force_rusage: bool = False) -> dict:
    from bench.cases import Case

    memray = load_memray(force_rusage)
    case = Case(spec)
    case.reset()
    rss_before = peak_rss_bytes()
    start = time.perf_counter()
    result: dict[str, Any] = {"memory_source": "memray" if memray and capture else "rusage"}
    if memray is not None and capture is not None:
        capture.parent.mkdir(parents=True, exist_ok=True)
        capture.unlink(missing_ok=True)
        with memray.Tracker(capture, native_traces=False, follow_fork=False):
            case.run()
    else:
        case.run()
    result["elapsed_s"] = time.perf_counter() - start
    result["peak_rss_bytes"] = peak_rss_bytes()
    result["rss_before_bytes"] = rss_before
    if memray is not None and capture is not None:
        meta = memray.FileReader(capture).metadata
        result["peak_heap_bytes"] = int(meta.peak_memory)
        result["total_allocations"] = int(meta.total_allocations)
    else:
        result["peak_heap_bytes"] = None
        result["memory_note"] = (
            "memray unavailable (or ARCHIVE_BENCH_FORCE_RUSAGE=1): peak RSS from getrusage only"
        )
    if case.variant in EXTERNAL_VARIANTS:
        # the work happens in another program: this process's heap and RSS say nothing
        result.update(
            memory_source="",
            peak_rss_bytes=None,
            peak_heap_bytes=None,
            memory_note=f"{case.variant} runs as an external program: memory not measured",
        )
    result["output_bytes"] = case.output_bytes()
    result["invalid_reason"] = case.verify() or ""
    result["estimate_s"] = result["elapsed_s"]
    if memray is not None and result["elapsed_s"] < ESTIMATE_RERUN_BELOW_S:
        # the tracker slows short operations a lot: one untracked run sizes pyperf's loops
        case.reset()
        start = time.perf_counter()
        case.run()
        result["estimate_s"] = time.perf_counter() - start
    case.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_worker")
    parser.add_argument("spec")
    parser.add_argument("result")
    parser.add_argument("--memray", type=Path, default=None, help="capture file to write")
    parser.add_argument("--force-rusage", action="store_true")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    try:
        result = measure(spec, args.memray, args.force_rusage)
    except Exception as exc:  # the operation itself failed: an invalid cell, not a crash
        logger.debug("memory run failed", exc_info=True)
        result = {"invalid_reason": f"operation failed: {type(exc).__name__}: {exc}"}
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
