"""Which machine a run belongs to: a name people chose (or the host name and model), plus cores.

Runs join on the machine key, ``<name>-<usable cores>c``, never on the platform family: two
Apple-silicon Macs are two machines, and one machine pinned to one core (``taskset -c 0``)
is measured apart from its two-core runs. The key is written into the fingerprint, the
results table and the results folder (``results/<machine key>/``), whose ``machine.json``
describes the machine the way asv's ``machine.json`` does, so a folder copied from a Pi keeps
saying it is the Pi whatever it is called.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.schema import MACHINE_FILE

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: fingerprint fields copied into machine.json
MACHINE_FIELDS = (
    "machine",
    "machine_key",
    "hostname",
    "hw_model",
    "platform_key",
    "platform_label",
    "os",
    "os_version",
    "arch",
    "cpu_model",
    "cores_logical",
    "cores_usable",
    "memory_bytes",
    "python_version",
)


def slug(text: str) -> str:
    """Lower case letters, digits and single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def check_name(name: str) -> str:
    """The name, or ValueError saying what a machine name may contain."""
    if not _NAME_OK.match(name):
        raise ValueError(
            f"--machine {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def default_name(fingerprint: dict[str, Any]) -> str:
    """Host name and model, e.g. ``studio-mac14-13`` or ``pi4-raspberry-pi-4-model-b-rev-1-4``."""
    host = slug(str(fingerprint.get("hostname") or "").split(".")[0]) or "host"
    model = (
        fingerprint.get("pi_model")
        or fingerprint.get("hw_model")
        or fingerprint.get("cpu_model")
        or fingerprint.get("arch")
        or ""
    )
    model_slug = slug(str(model))[:40].strip("-")
    return f"{host}-{model_slug}" if model_slug else host


def machine_key(name: str, cores_usable: int) -> str:
    """``<name>-<cores>c``; a name that already ends in that core count keeps it once
    (``--machine lab-vm-2c`` on two cores is ``lab-vm-2c``, not ``lab-vm-2c-2c``)."""
    suffix = f"-{int(cores_usable)}c"
    return name if name.endswith(suffix) else f"{name}{suffix}"


def name_fingerprint(fingerprint: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """The fingerprint with ``machine`` and ``machine_key`` set (``name`` wins)."""
    machine = check_name(name) if name else default_name(fingerprint)
    cores = int(fingerprint.get("cores_usable") or 1)
    return {**fingerprint, "machine": machine, "machine_key": machine_key(machine, cores)}


def write_machine_file(machine_dir: Path, fingerprint: dict[str, Any]) -> Path:
    """``results/<machine key>/machine.json``: who this folder's runs were measured on."""
    machine_dir.mkdir(parents=True, exist_ok=True)
    path = machine_dir / MACHINE_FILE
    data = {k: fingerprint.get(k) for k in MACHINE_FIELDS}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
