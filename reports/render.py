"""Render the report: load, compute the context, fill the Jinja2 templates, write one file.

Templates live in ``reports/templates/`` (package data) and are loaded with autoescaping on,
so any text from a results file is escaped. The stylesheet and the small table-sorting script
are template files included inline: the report needs no network and no other file to view.
The HTML is written atomically (temporary file, then rename), so a reader never sees half.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from archive_parallel.atomic import atomic_write_text
from reports.context import build_context
from reports.errors import NoResultsError, ReportError
from reports.formatting import FILTERS
from reports.loading import ResultSet, load_results

logger = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(result_set: ResultSet, output: Path, title: str | None = None) -> str:
    if result_set.is_empty:
        reasons = "; ".join(result_set.problems) or "the results table has no rows"
        raise NoResultsError(f"nothing to report: {reasons}")
    context = build_context(result_set, output, title)
    return environment().get_template(TEMPLATE).render(**context)


def build_report(
    paths: Sequence[Path | str] | ResultSet, output: Path | str, title: str | None = None
) -> Path:
    """Write the HTML report for the results below ``paths``; return its path.

    Raises NoResultsError (a ReportError) with a readable message when there is nothing to show.
    """
    output = Path(output)
    result_set = paths if isinstance(paths, ResultSet) else load_results(paths)
    html = render_html(result_set, output, title)
    try:
        atomic_write_text(output, html)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {output}: {exc}") from exc
    logger.info("report written to %s", output)
    return output
