"""Every operation that takes an archive, on an archive the caller may not read.

``run_unreadable(workdir, suffix)`` starts this file as a script; the child makes a small tree,
archives it twice (with and without a ``.meta`` side file), runs every operation once on a
readable archive (the control, which also imports every module they need), then takes read
permission away two ways: the archive at mode 000, and the archive in a folder at mode 000. It
runs ``extract_archive`` (with and without ``verify_integrity``),
``verify_archive_integrity``, ``verify_archive_details``, ``list_archive`` and the CLI's
``verify`` and ``list`` on each, and prints the outcomes as one JSON line.

Root reads mode-000 files, so a child started as root hands its folder to ``nobody`` (uid and
gid 65534) and drops to it, for good, before the checks (after the control: the interpreter
itself may lie where ``nobody`` cannot read). Where root may not change its uid, the child
says so and the tests skip.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

NOBODY = 65534


def run_unreadable(workdir: Path, suffix: str, timeout: float = 120) -> dict[str, Any]:
    """The child's outcomes (see the module docstring); ``workdir`` must not exist yet, and
    everyone must be able to reach it (under ``/tmp``, not pytest's private folders)."""
    workdir.mkdir(mode=0o755)
    repo = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, __file__, str(workdir), suffix],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=workdir,
        env={
            **os.environ,
            "PYTHONPATH": repo,
            "PYTHONDONTWRITEBYTECODE": "1",
            # no tuned profile: the machine's, under root's home, is not the test's concern
            "ARCHIVE_PARALLEL_TUNED_PROFILE": str(workdir / "no-tuned-profile.json"),
        },
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"child printed no outcome (rc {done.returncode}): {done.stderr[-3000:]}"
    return json.loads(lines[-1])


def _become_nobody(workdir: Path) -> str:
    """As root: give ``workdir`` to ``nobody`` and become it; why not, or ``""``."""
    try:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError as exc:
        return f"cannot become uid {NOBODY}: {exc}"
    return ""


def _outcome(call: Any) -> dict[str, Any]:
    from archive_parallel import ArchiveError

    try:
        result = call()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        return {
            "raised": type(exc).__name__,
            "archive_error": isinstance(exc, ArchiveError),
            "message": str(exc),
        }
    if hasattr(result, "ok"):  # an IntegrityReport
        return {
            "ok": result.ok,
            "reason": result.reason,
            "unreadable": getattr(result, "unreadable", None),
        }
    return {"result": result if isinstance(result, bool) else repr(result)}


def _cli(*argv: str) -> dict[str, Any]:
    from archive_parallel.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return {"code": code, "stderr": err.getvalue()}


def _operations(archive: Path, dest: Path) -> dict[str, Any]:
    from archive_parallel import ArchiveManager

    with ArchiveManager() as manager:
        return {
            "extract": _outcome(lambda: manager.extract_archive(archive, dest)),
            "extract_no_verify": _outcome(
                lambda: manager.extract_archive(archive, dest, None, False)
            ),
            "verify": _outcome(lambda: manager.verify_archive_integrity(archive)),
            "details": _outcome(lambda: manager.verify_archive_details(archive)),
            "list": _outcome(lambda: manager.list_archive(archive)),
            "cli_verify": _cli("verify", str(archive)),
            "cli_list": _cli("list", str(archive)),
            "dest_exists": dest.exists(),
        }


def _child(workdir: Path, suffix: str) -> dict[str, Any]:
    from archive_parallel import ArchiveConfig, ArchiveManager

    source = workdir / "src"
    (source / "d").mkdir(parents=True)
    for i in range(30):  # enough for the parallel path
        (source / "d" / f"f{i}.txt").write_bytes(f"file {i}\n".encode() * 2000)
    config = ArchiveConfig(parallel_threshold=2, parallel_min_archive_bytes=0)
    archives = {}
    with ArchiveManager() as manager:
        for meta in (True, False):
            archive = workdir / f"sealed-{meta}" / f"pkg.{suffix}"
            archive.parent.mkdir()
            manager.create_archive(source, archive, replace(config, include_metadata=meta))
            assert archive.with_name(archive.name + ".meta").exists() is meta
            archives[meta] = archive
    report: dict[str, Any] = {"cases": {}, "skip": ""}
    report["control"] = _operations(archives[True], workdir / "dest-control")
    if os.geteuid() == 0 and (reason := _become_nobody(workdir)):
        report["skip"] = reason
        return report
    report["uid"] = os.geteuid()
    for meta, archive in archives.items():
        sealed = archive.parent
        archive.chmod(0)  # the archive itself unreadable
        report["cases"][f"file-meta-{meta}"] = {
            "archive": str(archive),
            **_operations(archive, workdir / f"dest-file-{meta}"),
        }
        archive.chmod(0o644)  # readable, in a folder that may not be searched
        sealed.chmod(0)
        report["cases"][f"folder-meta-{meta}"] = {
            "archive": str(archive),
            **_operations(archive, workdir / f"dest-folder-{meta}"),
        }
        sealed.chmod(0o755)
    report["leftovers"] = sorted(
        str(p.relative_to(workdir)) for p in workdir.rglob("*") if ".ap-" in p.name
    )
    return report


if __name__ == "__main__":
    print(json.dumps(_child(Path(sys.argv[1]), sys.argv[2])), flush=True)
