"""An emulated run is never mistaken for the machine it emulates.

Recorded probe text from a Raspberry Pi 4, an x86-64 host running arm binaries through
qemu-user, and a Mac (native and under Rosetta). ``scripts/test-pi.sh`` also checks the real
thing: a sweep inside its emulated roots must come out labelled "emulated".
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench import emulation, fingerprint, tune
from bench.emulation import detect_emulation
from bench.results import build_table
from reports import schema, verdicts

PI4_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

Revision\t: c03114
Serial\t\t: 10000000abcdef01
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

PI_32BIT_CPUINFO = """processor\t: 0
model name\t: ARMv7 Processor rev 3 (v7l)
BogoMIPS\t: 108.00
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm
CPU implementer\t: 0x41
CPU part\t: 0xd08
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

X86_HOST_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model name\t: AMD EPYC
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep sse sse2 ht syscall nx lm
"""


@pytest.mark.parametrize(
    ("machine", "cpuinfo"), [("aarch64", PI4_CPUINFO), ("armv7l", PI_32BIT_CPUINFO)]
)
def test_a_real_pi_is_not_emulated(machine: str, cpuinfo: str) -> None:
    found = detect_emulation(machine, cpuinfo, parent_exe="/usr/bin/bash")
    assert not found.emulated and found.emulator is None


@pytest.mark.parametrize("machine", ["aarch64", "armv7l"])
def test_arm_machine_on_an_x86_cpu_is_qemu_user(machine: str) -> None:
    found = detect_emulation(machine, X86_HOST_CPUINFO, parent_exe=None)
    assert found.emulated and found.emulator == "qemu-user"
    assert machine in found.reason and "x86" in found.reason


def test_qemu_interpreter_gives_it_away_even_with_a_faked_cpuinfo() -> None:
    """Newer qemu versions fake an arm /proc/cpuinfo; the parent's executable is still qemu."""
    found = detect_emulation("aarch64", PI4_CPUINFO, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P")
    assert found.emulator == "qemu-user" and "aarch64-binfmt-P" in found.reason
    assert detect_emulation("armv7l", None, "/usr/bin/qemu-arm-static").emulated


def test_native_x86_and_unknown_probes_are_not_emulated() -> None:
    assert not detect_emulation("x86_64", X86_HOST_CPUINFO, "/usr/bin/bash").emulated
    assert not detect_emulation("aarch64", None, None).emulated  # nothing to go on
    assert not detect_emulation("riscv64", X86_HOST_CPUINFO, None).emulated  # family unknown


def test_rosetta_on_a_mac() -> None:
    assert detect_emulation("x86_64", rosetta="1").emulator == "rosetta"
    assert not detect_emulation("arm64", rosetta="0").emulated
    assert not detect_emulation("arm64", rosetta=None).emulated  # an Intel Mac has no such key


def test_probe_reads_this_linux_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulation, "_read", lambda path: X86_HOST_CPUINFO)
    monkeypatch.setattr(emulation, "_readlink", lambda path: "/usr/bin/qemu-aarch64-static")
    assert emulation.probe_emulation("aarch64", platform="linux").emulated
    monkeypatch.setattr(emulation, "_readlink", lambda path: "/usr/bin/bash")
    assert not emulation.probe_emulation("x86_64", platform="linux").emulated


def test_fingerprint_files_an_emulated_run_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = emulation.Emulation("qemu-user", "the machine is aarch64 but ...")
    monkeypatch.setattr(fingerprint, "probe_emulation", lambda machine: fake)
    fp = fingerprint.collect_fingerprint(".", probe=lambda argv: None)
    assert fp["emulated"] is True and fp["emulation"] == fake.reason
    assert fp["platform_key"].endswith("-emulated")
    assert fp["platform_label"].endswith("(emulated: qemu-user)")

    monkeypatch.setattr(fingerprint, "probe_emulation", lambda machine: emulation.Emulation())
    real = fingerprint.collect_fingerprint(".", probe=lambda argv: None)
    assert real["emulated"] is False and not real["platform_key"].endswith("-emulated")


def _records() -> list[dict]:
    base = {
        "operation": "create",
        "format": "tar.gz",
        "workload": "small",
        "scale": 0.02,
        "batch_size": 50,
        "backend": "zlib",
        "valid": True,
        "memory_source": "rusage",
        "peak_rss_bytes": 50_000_000,
    }
    sequential = {
        **base,
        "cell_id": "a",
        "variant": "sequential",
        "threads": 1,
        "values": [4.0] * 6,
    }
    parallel = [
        {**base, "cell_id": f"p{t}", "variant": "parallel", "threads": t, "values": [4.0 / t] * 6}
        for t in (1, 2, 4)
    ]
    return [sequential, *parallel]


def test_emulated_cells_decide_no_verdict_and_no_tuned_profile() -> None:
    fp = {"platform_key": "linux-aarch64-emulated", "platform_label": "x", "emulated": True}
    table = build_table(_records(), "run1", fp)
    assert table["emulated"].all()
    parallel = table[table["variant"] == "parallel"]
    assert (parallel["verdict_2x"] == "").all() and (parallel["verdict_4x"] == "").all()
    assert not math.isnan(parallel["speedup"].iloc[-1])  # measured, just not a verdict

    with pytest.raises(ValueError, match="emulation"):
        tune.tune_platform(table)
    normalised, _notes = schema.normalize(table.astype(str), "emulated")
    assert verdicts.parallel_rows(normalised).empty

    real = build_table(_records(), "run2", {**fp, "emulated": False, "platform_key": "k"})
    assert not real["emulated"].any()
    assert (real[real["variant"] == "parallel"]["verdict_2x"] != "").all()
    assert len(verdicts.parallel_rows(schema.normalize(real.astype(str), "real")[0])) == 3
    mixed = pd.concat([table.assign(platform_key="k"), real])
    assert len(tune.usable_rows(mixed)) == 3  # only the real machine's cells
