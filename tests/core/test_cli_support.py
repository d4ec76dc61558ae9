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
