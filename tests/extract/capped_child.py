"""Run one ArchiveManager operation in a child process under an address-space cap.

``run_capped(job)`` starts this file as a script; the child imports the library, caps its
address space (``RLIMIT_AS``) at what it already uses plus ``headroom`` bytes, runs the
operation and prints its outcome as one JSON line: ``outcome`` is ``"ok"`` or the exception's
class name (``MemoryError`` for a memory bomb that got past the library's bounds), so a
regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MiB = 1 << 20
DEFAULT_HEADROOM = 256 * MiB


def run_capped(
    op: str,
    archive: Path,
    dest: Path | None = None,
    config: dict[str, Any] | None = None,
    headroom: int = DEFAULT_HEADROOM,
    timeout: float = 300,
) -> dict[str, Any]:
    job = {
        "op": op,
        "archive": str(archive),
        "dest": str(dest) if dest else None,
        "config": config or {},
        "headroom": headroom,
    }
    env = dict(os.environ, MALLOC_ARENA_MAX="1")
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(job)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"child printed no outcome (rc {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(lines[-1])


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def _child(job: dict[str, Any]) -> dict[str, Any]:
    import resource

    import archive_parallel.extract  # noqa: F401 - imported before the cap
    import archive_parallel.verify  # noqa: F401
    from archive_parallel import ArchiveConfig, ArchiveManager
    from archive_parallel.errors import ArchiveError

    config = ArchiveConfig(**job["config"])
    manager = ArchiveManager(config)
    cap = _vm_size() + int(job["headroom"]) + 8 * MiB * config.thread_pool_size
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        op = job["op"]
        if op == "extract":
            result: Any = manager.extract_archive(job["archive"], job["dest"], config)
            result = result.file_count
        elif op == "verify":
            result = manager.verify_archive_integrity(job["archive"])
        elif op == "list":
            result = len(manager.list_archive(job["archive"]))
        else:
            raise ValueError(op)
        return {"outcome": "ok", "result": result}
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        return {
            "outcome": type(exc).__name__,
            "archive_error": isinstance(exc, ArchiveError),
            "message": str(exc)[:1000],
        }
    finally:
        manager.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print(json.dumps(_child(json.loads(sys.argv[1]))), flush=True)
