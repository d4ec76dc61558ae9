"""Which machine this is: macOS, a Raspberry Pi model, or generic Linux.

Every probe is optional and parsed defensively; a probe that fails leaves its field empty.
The library's view is small (a name, a key for tuned defaults and the usable cores, from
``cores``); the benchmark harness builds its fuller fingerprint on top of the same parsers.
"""

from __future__ import annotations

import functools
import platform as _platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .cores import usable_cpu_count

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class PlatformInfo:
    """``name`` is for people ("Raspberry Pi 4 Model B Rev 1.4"); ``key`` for files."""

    name: str
    key: str
    system: str
    machine: str
    cpu_count: int
    is_raspberry_pi: bool = False
    pi_model: str | None = None

    def __str__(self) -> str:
        return self.name


def parse_device_tree_model(raw: bytes | str) -> str | None:
    """The model string from ``/proc/device-tree/model`` (trailing NUL removed)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.replace("\x00", "").strip()
    return text or None


def parse_cpuinfo_model(text: str) -> str | None:
    """The ``Model`` line of ``/proc/cpuinfo`` (present on Raspberry Pi OS)."""
    match = re.search(r"^Model\s*:\s*(.+?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def pi_key(model: str) -> str:
    """ "Raspberry Pi 4 Model B Rev 1.4" -> "raspberry-pi-4"."""
    match = re.search(r"Raspberry Pi\s+(\d+|Zero\s*2?\s*W?|Compute Module\s*\d*)", model, re.I)
    if not match:
        return "raspberry-pi"
    return "raspberry-pi-" + re.sub(r"\s+", "-", match.group(1).strip().lower())


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def identify(
    system: str, machine: str, cpu_count: int, dt_model: bytes | None, cpuinfo: str | None
) -> PlatformInfo:
    """Build PlatformInfo from raw probe results (pure: tests feed recorded samples)."""
    machine_l = machine.lower()
    if system == "Darwin":
        label = "macOS Apple silicon" if machine_l in ("arm64", "aarch64") else "macOS Intel"
        return PlatformInfo(label, f"macos-{machine_l}", system, machine, cpu_count)
    model = parse_device_tree_model(dt_model) if dt_model else None
    if not model and cpuinfo:
        model = parse_cpuinfo_model(cpuinfo)
    if model and "raspberry pi" in model.lower():
        return PlatformInfo(model, pi_key(model), system, machine, cpu_count, True, model)
    label = f"{system or 'Unknown'} {machine}".strip()
    return PlatformInfo(
        label, f"{(system or 'unknown').lower()}-{machine_l}", system, machine, cpu_count
    )


@functools.lru_cache(maxsize=1)
def detect_platform() -> PlatformInfo:
    """Probe this machine once (cached)."""
    system = _platform.system()
    dt_model = _read(DEVICE_TREE_MODEL) if sys.platform.startswith("linux") else None
    cpuinfo_raw = _read(CPUINFO) if sys.platform.startswith("linux") else None
    cpuinfo = cpuinfo_raw.decode("utf-8", "replace") if cpuinfo_raw else None
    return identify(system, _platform.machine(), usable_cpu_count(), dt_model, cpuinfo)
