"""A durable extraction flushes every staged file after giving it its mode; where that flush
goes file by file (macOS always, Linux without ``syncfs``), a member its owner may not read
(0o000, a write-only 0o200 log) is still flushed and extracted, as GNU tar extracts it.

Root reads any file, so the extraction runs in a child without that privilege
(``tests.unprivileged``); the per-file flush is forced there, with a stand-in ``fcntl`` for
the macOS branch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.unprivileged import unprivileged_prefix

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = {"app/run.sh": 0o755, "app/disabled.conf": 0o000, "app/audit.log": 0o200}
CHILD = """
import json, os, stat, sys, types
from archive_parallel import ArchiveConfig, ArchiveManager, durability
durability._SYNCFS = None
if sys.argv[3] == "full-fsync":
    sys.modules["fcntl"] = types.SimpleNamespace(fcntl=lambda fd, command: 0)
    durability._FULLFSYNC = 51
ArchiveManager().extract_archive(sys.argv[1], sys.argv[2], ArchiveConfig(durable_writes=True))
app = os.path.join(sys.argv[2], "app")
modes = {n: stat.S_IMODE(os.lstat(os.path.join(app, n)).st_mode) for n in os.listdir(app)}
print(json.dumps(modes))
"""


@pytest.mark.parametrize("branch", ["fsync-each", "full-fsync"])
def test_members_their_owner_may_not_read_are_flushed_and_extracted(tmp_path, branch):
    prefix = unprivileged_prefix()
    archive = tmp_path / "pkg.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, mode in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = 2, mode, 1_600_000_000
            tar.addfile(info, io.BytesIO(b"x\n"))
    dest = tmp_path / "dest"
    result = subprocess.run(
        [*prefix, sys.executable, "-c", CHILD, str(archive), str(dest), branch],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout)
    assert modes == {name.split("/")[1]: mode for name, mode in MEMBERS.items()}
    for name in MEMBERS:
        path = dest / name
        path.chmod(0o644)
        assert path.read_bytes() == b"x\n"
