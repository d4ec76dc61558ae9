"""glibc is taught once per process to keep freed codec memory: fewer page faults."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from archive_parallel.heap_reuse import runs_on_glibc

glibc_only = pytest.mark.skipif(not runs_on_glibc(), reason="glibc's thresholds only")


def _run(code: str, *args: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (the process-wide state starts anew)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


#: minor page faults of 8 bz2 streams of 1.2 MB (level 6: 5 MiB of sort arrays each), after
#: one stream has run, with or without the teaching block freed first
FAULTS = """
    import bz2, os, resource, sys
    from archive_parallel.heap_reuse import reuse_freed_memory
    if sys.argv[1:] == ["reuse"]:
        assert reuse_freed_memory()
    piece = os.urandom(600_000) + bytes(range(256)) * 2344
    bz2.compress(piece, 6)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(8):
        bz2.compress(piece, 6)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@glibc_only
def test_freed_codec_memory_is_reused_instead_of_faulted_in_again():
    plain, reused = int(_run(FAULTS)), int(_run(FAULTS, "reuse"))
    # each stream's arrays are mapped and zeroed again without it: over 1,000 faults apiece
    assert plain > 8 * 1000
    assert reused < plain / 4


def test_once_per_process():
    out = _run(
        """
        from archive_parallel.heap_reuse import reuse_freed_memory, runs_on_glibc
        print(reuse_freed_memory() == runs_on_glibc(), reuse_freed_memory())
        """
    )
    assert out == "True False"


def test_the_first_operation_frees_the_block(tmp_path):
    """Any operation, on the sequential path too (it cuts a tar.bz2 into streams as well)."""
    (tmp_path / "a.txt").write_text("a")
    out = _run(
        """
        import sys
        from pathlib import Path
        from archive_parallel import ArchiveConfig, ArchiveManager
        from archive_parallel.heap_reuse import reuse_freed_memory
        folder = Path(sys.argv[1])
        config = ArchiveConfig(enable_parallel_processing=False, durable_writes=False)
        with ArchiveManager(config) as manager:
            assert manager.calculate_checksums([folder / "a.txt"])
        print(reuse_freed_memory())
        """,
        str(tmp_path),
    )
    assert out == "False"


def test_nothing_but_glibc_is_touched(monkeypatch):
    import archive_parallel.heap_reuse as heap_reuse

    monkeypatch.setattr(heap_reuse, "_done", False)

    def no_glibc(name: str) -> str:
        raise ValueError(name)

    monkeypatch.setattr(heap_reuse.os, "confstr", no_glibc)
    assert heap_reuse.runs_on_glibc() is False
    assert heap_reuse.reuse_freed_memory() is False
