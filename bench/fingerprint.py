"""The machine a sweep ran on: OS, CPU, cores, memory, Python, storage, Pi state.

Parsers are pure functions over the text a probe prints (tests feed recorded samples from a
Raspberry Pi and a Mac); ``collect_fingerprint`` runs the probes that exist on this machine
and leaves a field ``None`` when its probe is missing or fails. The platform key and label
build on ``archive_parallel.platform_info`` so results folders and tuned profiles use the
same key that ``ArchiveConfig.tuned()`` looks up.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive_parallel.platform_info import (
    identify,
    parse_cpuinfo_model,
    parse_device_tree_model,
)
from bench import memory_reporting
from bench.cores import cores_info
from bench.emulation import probe_emulation

logger = logging.getLogger(__name__)

#: vcgencmd get_throttled bits -> meaning (bits 16-19: the same, "has occurred since boot")
THROTTLE_BITS = {
    0: "under-voltage",
    1: "arm-frequency-capped",
    2: "throttled",
    3: "soft-temperature-limit",
    16: "under-voltage-occurred",
    17: "arm-frequency-capped-occurred",
    18: "throttled-occurred",
    19: "soft-temperature-limit-occurred",
}
THROTTLE_NOW_MASK = 0xF
THROTTLE_OCCURRED_MASK = 0xF0000

#: ARM "CPU part" ids seen on Raspberry Pis (64-bit Pi OS prints no "model name")
ARM_CPU_PARTS = {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd0b": "Cortex-A76",
    "0xb76": "ARM1176",
    "0xc07": "Cortex-A7",
}

ProbeRunner = Callable[[list[str]], str | None]


# ----------------------------------------------------------------------------- parsers


def parse_vcgencmd_temp(text: str | None) -> float | None:
    """``temp=48.3'C`` -> 48.3."""
    if not text:
        return None
    match = re.search(r"temp=([-\d.]+)", text)
    return float(match.group(1)) if match else None


def parse_thermal_zone(text: str | None) -> float | None:
    """``/sys/class/thermal/thermal_zone0/temp`` millidegrees (``48312``) -> 48.312."""
    if not text or not text.strip().lstrip("-").isdigit():
        return None
    return int(text.strip()) / 1000.0


def parse_vcgencmd_throttled(text: str | None) -> int | None:
    """``throttled=0x50000`` -> 0x50000."""
    if not text:
        return None
    match = re.search(r"throttled=(0x[0-9a-fA-F]+|\d+)", text)
    return int(match.group(1), 0) if match else None


def decode_throttled(value: int | None) -> list[str]:
    """Names of the set bits of a get_throttled value."""
    if value is None:
        return []
    return [name for bit, name in THROTTLE_BITS.items() if value & (1 << bit)]


def throttled_during(before: int | None, after: int | None) -> bool:
    """True when the Pi was limited at either end of a cell, or a limit occurred during it."""
    if before is None and after is None:
        return False
    b, a = before or 0, after or 0
    if (b | a) & THROTTLE_NOW_MASK:
        return True
    return bool((a & THROTTLE_OCCURRED_MASK) & ~(b & THROTTLE_OCCURRED_MASK))


def parse_sysctl_int(text: str | None) -> int | None:
    if not text:
        return None
    text = text.strip().split(":")[-1].strip()
    return int(text) if text.isdigit() else None


def parse_meminfo_total(text: str | None) -> int | None:
    """``MemTotal:  3884332 kB`` -> bytes."""
    if not text:
        return None
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_cpuinfo_cpu(text: str | None) -> str | None:
    """The CPU model from /proc/cpuinfo: ``model name``, else the ARM part name."""
    if not text:
        return None
    match = re.search(r"^model name\s*:\s*(.+?)\s*$", text, re.MULTILINE)
    if match:
        return match.group(1)
    part = re.search(r"^CPU part\s*:\s*(0x[0-9a-fA-F]+)", text, re.MULTILINE)
    if part:
        return ARM_CPU_PARTS.get(part.group(1).lower(), f"ARM part {part.group(1)}")
    hardware = re.search(r"^Hardware\s*:\s*(.+?)\s*$", text, re.MULTILINE)
    return hardware.group(1) if hardware else None


def parse_proc_mounts(text: str, path: str) -> dict[str, Any]:
    """Filesystem of ``path`` from /proc/mounts lines: the longest mount point above it."""
    best: tuple[str, str, str] | None = None
    target = path.rstrip("/") or "/"
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        device, mount, fstype = parts[0], parts[1].replace("\\040", " "), parts[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/") or mount == "/"
        if inside and (best is None or len(mount) > len(best[1])):
            best = (device, mount, fstype)
    if best is None:
        return {"path": path, "filesystem": None, "device": None, "is_sd_card": None}
    device, _mount, fstype = best
    return {
        "path": path,
        "filesystem": fstype,
        "device": device,
        "is_sd_card": device.startswith("/dev/mmcblk"),
    }


def platform_label(
    key_label: str,
    system: str,
    machine: str,
    cpu_model: str | None,
    os_version: str | None,
    is_pi: bool,
) -> str:
    """For people: ``Raspberry Pi 4 Model B Rev 1.4``, ``Apple M4 (macOS 15.1)``..."""
    if is_pi:
        return key_label
    if system == "Darwin":
        return f"{cpu_model or key_label} (macOS {os_version or '?'})"
    return f"{cpu_model or machine} ({system} {machine})".strip()


# ------------------------------------------------------------------------------ probes


def run_probe(cmd: list[str], timeout: float = 5.0) -> str | None:
    """stdout of a probe command, or None when it is missing or fails."""
    if shutil.which(cmd[0]) is None:
        return None
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("probe %s failed: %s", cmd, exc)
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def pi_thermal_state(probe: ProbeRunner = run_probe) -> dict[str, Any]:
    """Temperature (C) and get_throttled value now; Nones off a Pi."""
    temp = parse_vcgencmd_temp(probe(["vcgencmd", "measure_temp"]))
    if temp is None:
        temp = parse_thermal_zone(_read_text("/sys/class/thermal/thermal_zone0/temp"))
    throttled = parse_vcgencmd_throttled(probe(["vcgencmd", "get_throttled"]))
    return {"temperature_c": temp, "throttled": throttled}


def collect_fingerprint(
    work_dir: str | os.PathLike[str] = ".", probe: ProbeRunner = run_probe
) -> dict[str, Any]:
    """The fingerprint.json fields for this machine (see docs/results-schema.md).

    ``cores_usable`` is what the process may use (affinity, cgroup quota), not the logical
    count; ``machine``/``machine_key`` are added by ``bench.machine.name_fingerprint``."""
    system, machine = platform.system(), platform.machine()
    is_linux = sys.platform.startswith("linux")
    dt_model_raw = Path("/proc/device-tree/model").read_bytes() if _exists_dt() else None
    cpuinfo = _read_text("/proc/cpuinfo") if is_linux else None
    cores = cores_info()
    info = identify(system, machine, cores["cores_usable"], dt_model_raw, cpuinfo)

    cpu_model: str | None
    cores_perf = cores_eff = hw_model = None
    if system == "Darwin":
        cpu_model = probe(["sysctl", "-n", "machdep.cpu.brand_string"])
        hw_model = probe(["sysctl", "-n", "hw.model"])
        cores_perf = parse_sysctl_int(probe(["sysctl", "-n", "hw.perflevel0.physicalcpu"]))
        cores_eff = parse_sysctl_int(probe(["sysctl", "-n", "hw.perflevel1.physicalcpu"]))
        memory = parse_sysctl_int(probe(["sysctl", "-n", "hw.memsize"]))
        os_version = probe(["sw_vers", "-productVersion"]) or platform.mac_ver()[0] or None
    else:
        cpu_model = parse_cpuinfo_cpu(cpuinfo)
        memory = parse_meminfo_total(_read_text("/proc/meminfo"))
        os_version = platform.release()

    work = str(Path(work_dir).resolve())
    mounts = _read_text("/proc/mounts") if is_linux else None
    if mounts:
        storage = parse_proc_mounts(mounts, work)
    else:
        storage = {"path": work, "filesystem": None, "device": None, "is_sd_card": None}
        df = probe(["df", "-P", work])
        if df and len(df.splitlines()) > 1:
            storage["device"] = df.splitlines()[1].split()[0]

    thermal = pi_thermal_state(probe) if info.is_raspberry_pi else {}
    throttled = thermal.get("throttled")
    emulation = probe_emulation(machine)
    label = platform_label(info.name, system, machine, cpu_model, os_version, info.is_raspberry_pi)
    return {
        # an emulated run gets its own key and label: never filed or tuned as the real machine
        "platform_key": info.key + ("-emulated" if emulation.emulated else ""),
        "platform_label": label
        + (f" (emulated: {emulation.emulator})" if emulation.emulated else ""),
        "emulated": emulation.emulated,
        "emulation": emulation.reason or None,
        "os": system,
        "os_version": os_version,
        "arch": machine,
        "cpu_model": cpu_model
        or (parse_cpuinfo_model(cpuinfo) if cpuinfo else None)
        or platform.processor()
        or None,
        **cores,
        "hw_model": hw_model,
        "cores_performance": cores_perf,
        "cores_efficiency": cores_eff,
        "memory_bytes": memory,
        "free_page_reporting": memory_reporting.probe() if is_linux else None,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()) + f" [{platform.python_compiler()}]",
        "storage": storage,
        "is_raspberry_pi": info.is_raspberry_pi,
        "pi_model": info.pi_model,
        "temperature_c_before": thermal.get("temperature_c"),
        "temperature_c_after": None,
        "throttled_before": throttled,
        "throttled_after": None,
        "throttled_flags_after": None,
        "hostname": socket.gethostname(),
        "collected_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def finish_fingerprint(fp: dict[str, Any], probe: ProbeRunner = run_probe) -> dict[str, Any]:
    """Add the after-sweep temperature and throttling state (Pi only)."""
    if fp.get("is_raspberry_pi"):
        state = pi_thermal_state(probe)
        fp["temperature_c_after"] = state["temperature_c"]
        fp["throttled_after"] = state["throttled"]
        fp["throttled_flags_after"] = decode_throttled(state["throttled"])
    return fp


def _exists_dt() -> bool:
    return sys.platform.startswith("linux") and Path("/proc/device-tree/model").is_file()


def parse_device_tree(raw: bytes) -> str | None:
    """Re-exported for tests: the model string of /proc/device-tree/model."""
    return parse_device_tree_model(raw)
