"""Is this Python running under an emulator? A sweep timed there says nothing about the CPU.

qemu-user (through binfmt_misc) runs arm binaries on an x86-64 host: ``uname`` reports
``aarch64`` or ``armv7l`` while the kernel's ``/proc/cpuinfo`` still describes the host's x86
CPU, and the executable of every emulated process is qemu. qemu hides that for the process's
own ``/proc/self/exe``, not for its parent's, which is emulated too when the sweep was started
from an emulated shell. On macOS, Rosetta 2 says so in ``sysctl.proc_translated``.

``detect_emulation`` is pure (tests feed recorded probe text); ``probe_emulation`` reads this
machine. Results from an emulated run are labelled "emulated" and never decide a verdict or a
tuned profile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

ARM_MACHINES = {"aarch64", "arm64", "armv7l", "armv6l", "armv8l", "armhf"}
X86_MACHINES = {"x86_64", "amd64", "i386", "i486", "i586", "i686"}


@dataclass(frozen=True)
class Emulation:
    """``emulator`` is None on real hardware; ``reason`` says what gave an emulator away."""

    emulator: str | None = None
    reason: str = ""

    @property
    def emulated(self) -> bool:
        return self.emulator is not None


def machine_family(machine: str) -> str | None:
    """ "arm" or "x86" for a ``platform.machine()`` value, None for anything else."""
    machine = machine.lower()
    if machine in ARM_MACHINES or machine.startswith("armv"):
        return "arm"
    if machine in X86_MACHINES:
        return "x86"
    return None


def cpuinfo_family(cpuinfo: str) -> str | None:
    """The CPU family ``/proc/cpuinfo`` describes: "x86" (vendor_id, sse flags), "arm"
    (CPU implementer, asimd/neon features), or None when it says neither."""
    if re.search(r"^vendor_id\s*:\s*(GenuineIntel|AuthenticAMD|HygonGenuine)", cpuinfo, re.M):
        return "x86"
    if re.search(r"^flags\s*:.*\bsse2\b", cpuinfo, re.M):
        return "x86"
    if re.search(r"^CPU implementer\s*:", cpuinfo, re.M):
        return "arm"
    if re.search(r"^Features\s*:.*\b(asimd|neon|vfp)\b", cpuinfo, re.M):
        return "arm"
    return None


def _qemu_in(path: str | None) -> bool:
    return bool(path) and "qemu" in path.lower()


def detect_emulation(
    machine: str,
    cpuinfo: str | None = None,
    parent_exe: str | None = None,
    rosetta: str | None = None,
) -> Emulation:
    """Decide from the probes: ``machine`` (``platform.machine()``), ``/proc/cpuinfo``, the
    parent process's executable, and macOS's ``sysctl -n sysctl.proc_translated``."""
    if _qemu_in(parent_exe):
        return Emulation("qemu-user", f"the interpreter is {parent_exe}")
    family, cpu = machine_family(machine), cpuinfo_family(cpuinfo) if cpuinfo else None
    if family and cpu and family != cpu:
        return Emulation(
            "qemu-user", f"the machine is {machine} but /proc/cpuinfo describes an {cpu} CPU"
        )
    if rosetta is not None and rosetta.strip() == "1":
        reason = "sysctl.proc_translated is 1 (an x86-64 Python on Apple silicon)"
        return Emulation("rosetta", reason)
    return Emulation()


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _sysctl(name: str) -> str | None:
    try:
        done = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def probe_emulation(machine: str | None = None, platform: str | None = None) -> Emulation:
    """This process's answer (the probes that exist here; a missing one counts as no sign)."""
    import platform as _platform

    machine = machine or _platform.machine()
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return detect_emulation(
            machine, _read("/proc/cpuinfo"), _readlink(f"/proc/{os.getppid()}/exe")
        )
    if platform == "darwin":
        return detect_emulation(machine, rosetta=_sysctl("sysctl.proc_translated"))
    return detect_emulation(machine)
