"""Fingerprint parsers fed recorded outputs of a Raspberry Pi and an Apple M4 Mac."""

from pathlib import Path

import pytest

from archive_parallel.platform_info import identify
from bench import fingerprint as fp

SAMPLES = Path(__file__).resolve().parent / "samples"

PI_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
CPU implementer\t: 0x41
CPU part\t: 0xd08
processor\t: 1
CPU part\t: 0xd08
Revision\t: c03114
Serial\t\t: 10000000abcdef01
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

MOUNTS = """sysfs /sys sysfs rw,nosuid 0 0
/dev/mmcblk0p2 / ext4 rw,noatime 0 0
/dev/mmcblk0p1 /boot/firmware vfat rw,relatime 0 0
/dev/sda2 /mnt/usb ext4 rw,relatime 0 0
/dev/nvme0n1p2 /mnt/nvme ext4 rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


@pytest.mark.parametrize(
    ("sample", "model", "key"),
    [
        ("pi4-device-tree-model", "Raspberry Pi 4 Model B Rev 1.4", "raspberry-pi-4"),
        ("pi5-device-tree-model", "Raspberry Pi 5 Model B Rev 1.0", "raspberry-pi-5"),
    ],
)
def test_device_tree_model_with_trailing_nul(sample, model, key):
    raw = (SAMPLES / sample).read_bytes()
    assert raw.endswith(b"\x00")
    assert fp.parse_device_tree(raw) == model
    info = identify("Linux", "aarch64", 4, raw, None)
    assert info.is_raspberry_pi and info.key == key and info.pi_model == model
    label = fp.platform_label(info.name, "Linux", "aarch64", "Cortex-A72", "6.6", True)
    assert label == model


def test_cpuinfo_arm_part_and_x86_model_name():
    assert fp.parse_cpuinfo_cpu(PI_CPUINFO) == "Cortex-A72"
    x86 = "processor : 0\nmodel name\t: AMD EPYC 7B13\n"
    assert fp.parse_cpuinfo_cpu(x86) == "AMD EPYC 7B13"
    assert fp.parse_cpuinfo_cpu("") is None


def test_vcgencmd_temperature_and_throttling():
    assert fp.parse_vcgencmd_temp("temp=48.3'C") == 48.3
    assert fp.parse_thermal_zone("48312\n") == pytest.approx(48.312)
    assert fp.parse_vcgencmd_throttled("throttled=0x0") == 0
    value = fp.parse_vcgencmd_throttled("throttled=0x50000")
    assert value == 0x50000
    assert fp.decode_throttled(value) == ["under-voltage-occurred", "throttled-occurred"]
    assert fp.decode_throttled(0x4) == ["throttled"]
    assert fp.parse_vcgencmd_throttled("garbage") is None


def test_throttled_during_a_cell():
    assert not fp.throttled_during(None, None)
    assert not fp.throttled_during(0x50000, 0x50000)  # occurred before the cell only
    assert fp.throttled_during(0x0, 0x40000)  # occurred during the cell
    assert fp.throttled_during(0x4, 0x0)  # throttled at the start
    assert fp.throttled_during(0x0, 0x2)  # frequency capped now


def test_apple_m4_sysctl_outputs():
    outputs = {
        ("sysctl", "-n", "machdep.cpu.brand_string"): "Apple M4",
        ("sysctl", "-n", "hw.perflevel0.physicalcpu"): "4",
        ("sysctl", "-n", "hw.perflevel1.physicalcpu"): "6",
        ("sysctl", "-n", "hw.memsize"): "17179869184",
        ("sw_vers", "-productVersion"): "15.1",
    }
    assert fp.parse_sysctl_int(outputs[("sysctl", "-n", "hw.memsize")]) == 17179869184
    assert fp.parse_sysctl_int("hw.ncpu: 10") == 10
    assert fp.parse_sysctl_int("") is None
    info = identify("Darwin", "arm64", 10, None, None)
    assert info.key == "macos-arm64"
    label = fp.platform_label(info.name, "Darwin", "arm64", "Apple M4", "15.1", False)
    assert label == "Apple M4 (macOS 15.1)"


def test_storage_from_proc_mounts():
    sd = fp.parse_proc_mounts(MOUNTS, "/home/pi/archive-parallel/results")
    assert sd == {
        "path": "/home/pi/archive-parallel/results",
        "filesystem": "ext4",
        "device": "/dev/mmcblk0p2",
        "is_sd_card": True,
    }
    assert fp.parse_proc_mounts(MOUNTS, "/mnt/usb/work")["device"] == "/dev/sda2"
    nvme = fp.parse_proc_mounts(MOUNTS, "/mnt/nvme")
    assert nvme["device"] == "/dev/nvme0n1p2" and nvme["is_sd_card"] is False
    assert fp.parse_proc_mounts(MOUNTS, "/tmp/x")["filesystem"] == "tmpfs"


def test_meminfo():
    assert fp.parse_meminfo_total("MemTotal:        3884332 kB\nMemFree: 1 kB\n") == 3884332 * 1024


def test_pi_thermal_state_uses_the_probe():
    answers = {"measure_temp": "temp=61.2'C", "get_throttled": "throttled=0x20002"}

    def probe(cmd):
        return answers.get(cmd[-1])

    state = fp.pi_thermal_state(probe)
    assert state == {"temperature_c": 61.2, "throttled": 0x20002}


def test_collect_fingerprint_here_has_every_schema_field(tmp_path):
    data = fp.collect_fingerprint(tmp_path)
    schema = {
        "platform_key",
        "platform_label",
        "os",
        "os_version",
        "arch",
        "cpu_model",
        "cores_logical",
        "cores_performance",
        "cores_efficiency",
        "memory_bytes",
        "python_version",
        "python_implementation",
        "python_build",
        "storage",
        "is_raspberry_pi",
        "pi_model",
        "temperature_c_before",
        "temperature_c_after",
        "throttled_before",
        "throttled_after",
        "throttled_flags_after",
        "hostname",
        "collected_at",
    }
    assert schema <= set(data)
    assert set(data["storage"]) == {"path", "filesystem", "device", "is_sd_card"}
