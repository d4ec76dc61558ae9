"""An archive the caller may not read is reported as such, never as damage, and never as a
bare ``PermissionError`` (probe finding 2: with a side file the archive's hash escaped as one).

Every operation that takes an archive is run in a child process (``unreadable_child``), which
drops to ``nobody`` when the tests run as root (root reads mode-000 files), on a tar.gz and a
zip, with and without a side file, with the archive at mode 000 and in a folder at mode 000:
extraction and listing raise ``ArchiveError`` "cannot read archive PATH: Permission denied"
and leave no destination; verification says False with that reason, flagged ``unreadable``,
as documented (``RuntimeError`` only for a missing archive); the CLI calls it an error, not
damage.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from unreadable_child import run_unreadable

SUFFIXES = ["tar.gz", "zip"]
CASES = ["file-meta-True", "file-meta-False", "folder-meta-True", "folder-meta-False"]


@pytest.fixture(scope="module", params=SUFFIXES)
def outcomes(request):
    # under /tmp, not tmp_path: nobody must be able to reach it when the tests run as root
    parent = Path(tempfile.mkdtemp(prefix="ap-unreadable-"))
    parent.chmod(0o755)
    try:
        result = run_unreadable(parent / "work", request.param)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    if result["skip"]:
        pytest.skip(result["skip"])
    assert result["uid"] != 0
    control = result["control"]  # the same calls on a readable archive work
    assert control["verify"] == {"result": True}
    assert control["details"]["ok"] is True
    assert control["dest_exists"] and "raised" not in control["extract"]
    assert control["cli_verify"]["code"] == control["cli_list"]["code"] == 0
    return result


def _cannot_read(outcome: dict, archive: str) -> bool:
    return outcome.get("message") == f"cannot read archive {archive}: Permission denied"


@pytest.mark.parametrize("case", CASES)
def test_extract_and_list_raise_archive_error_naming_the_archive(outcomes, case):
    result = outcomes["cases"][case]
    for op in ("extract", "extract_no_verify", "list"):
        outcome = result[op]
        assert outcome.get("raised") == "ArchiveError", (op, outcome)
        assert outcome["archive_error"], (op, outcome)
        assert _cannot_read(outcome, result["archive"]), (op, outcome)
    assert result["dest_exists"] is False
    assert outcomes["leftovers"] == []


@pytest.mark.parametrize("case", CASES)
def test_verify_says_false_because_unreadable_not_damaged(outcomes, case):
    result = outcomes["cases"][case]
    assert result["verify"] == {"result": False}
    details = result["details"]
    assert details["ok"] is False and details["unreadable"] is True, details
    assert details["reason"] == f"cannot read archive {result['archive']}: Permission denied"


@pytest.mark.parametrize("case", CASES)
def test_the_cli_reports_an_error_not_a_damaged_archive(outcomes, case):
    result = outcomes["cases"][case]
    for command in ("cli_verify", "cli_list"):
        outcome = result[command]
        assert outcome["code"] == 1, (command, outcome)
        assert outcome["stderr"].startswith("archive-parallel: error: cannot read archive "), (
            command,
            outcome,
        )
        assert "damaged" not in outcome["stderr"] and "Traceback" not in outcome["stderr"]
