"""``archive_parallel.cli_support``: the exit codes, one-line errors and checks the tools share."""

from __future__ import annotations

import argparse
import errno
import subprocess
import sys
from pathlib import Path

import pytest

from archive_parallel.cli_support import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    interrupt_behind,
    interrupt_exit_code,
    non_negative_int,
    os_error_text,
    positive_float,
    positive_int,
)
from archive_parallel.interrupts import Terminated

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "0", "-1", "zero", ""])
def test_positive_float_refuses_what_is_not_a_finite_number_above_0(text):
    with pytest.raises(argparse.ArgumentTypeError):
        positive_float(text)


def test_positive_float_accepts_a_small_scale():
    assert positive_float("0.02") == 0.02


@pytest.mark.parametrize(("parse", "text"), [(positive_int, "0"), (non_negative_int, "-1")])
def test_whole_numbers_are_checked_against_their_least_value(parse, text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)
    assert parse("3") == 3 and non_negative_int("0") == 0


def test_os_error_text_names_the_path_and_the_reason():
    error = NotADirectoryError(errno.ENOTDIR, "Not a directory", "/x/afile/res")
    assert os_error_text(error) == "/x/afile/res: Not a directory"
    renamed = PermissionError(errno.EACCES, "Permission denied", "a", None, "b\nforged")
    assert os_error_text(renamed) == "a -> b\\nforged: Permission denied"
    assert os_error_text(OSError("Cannot save file into a non-existent directory: 'x'")) == (
        "Cannot save file into a non-existent directory: 'x'"
    )


def test_interrupt_exit_codes():
    assert interrupt_exit_code(KeyboardInterrupt()) == EXIT_INTERRUPTED == 130
    assert interrupt_exit_code(Terminated()) == EXIT_TERMINATED == 143


def test_emit_into_a_closed_pipe_ends_quietly_with_the_commands_own_status():
    program = (
        "import sys\n"
        "from archive_parallel.cli_support import emit\n"
        "for i in range(200_000):\n"
        "    emit(str(i))\n"
        "sys.exit(0)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout.readline() == b"0\n"
    writer.stdout.close()  # the reader goes away, as `| head -1` does
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0
    assert err == b""


def _failing_clean_up(interrupt: BaseException) -> OSError:
    """An OSError raised while ``interrupt`` was being handled, as a clean-up that fails on
    its way out (closing a pipe twice) raises it."""
    try:
        try:
            raise interrupt
        except KeyboardInterrupt:
            raise OSError(errno.EBADF, "Bad file descriptor") from None
    except OSError as error:
        return error


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt(), Terminated()])
def test_the_interrupt_behind_a_failed_clean_up_is_found(interrupt):
    assert interrupt_behind(_failing_clean_up(interrupt)) is interrupt
    assert interrupt_behind(OSError(errno.ENOSPC, "No space left on device")) is None


def test_fixtures_gen_reports_an_interrupt_whose_clean_up_failed(monkeypatch, capsys, tmp_path):
    """SIGTERM while the disk check runs ``dd``: a failed clean-up is still an interruption
    (exit 143, "interrupted"), not "Bad file descriptor" and exit 1."""
    from fixtures_gen import cli as fixtures_cli

    def interrupted(*args, **kwargs):
        raise _failing_clean_up(Terminated())

    monkeypatch.setattr(fixtures_cli, "measure_against_dd", interrupted)
    code = fixtures_cli.main(["bench-disk", "--profile", "small", "--dir", str(tmp_path)])
    assert (code, capsys.readouterr().err) == (EXIT_TERMINATED, "fixtures-gen: interrupted\n")
