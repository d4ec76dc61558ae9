"""Errors the report raises on purpose, so the CLI can print a clear message, not a traceback."""

from __future__ import annotations


class ReportError(RuntimeError):
    """Something about the inputs or the output prevents a report; the message says what."""


class NoResultsError(ReportError):
    """No usable results table was found below the given folders."""
