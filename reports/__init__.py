"""Reports: read benchmark results folders, judge them against the 2-4x target, render HTML.

Reads only the files bench writes (RESULTS_SCHEMA.md), never imports bench. Public API:

- ``load_results(paths) -> ResultSet``: every results.csv below the paths, with fingerprint,
  run and tuned files; invalid rows kept and flagged.
- ``build_report(paths, output, title=None) -> Path``: one self-contained HTML file.
- ``text_summary(result_set_or_paths) -> str``: the verdicts as Markdown.
- ``best_verdicts(table)``: the verdict per (platform, operation, format, workload).
"""

from reports.errors import NoResultsError, ReportError
from reports.loading import ResultSet, RunInfo, load_results
from reports.render import build_report
from reports.summary import text_summary
from reports.verdicts import Verdict, best_verdicts, classify

__all__ = [
    "NoResultsError",
    "ReportError",
    "ResultSet",
    "RunInfo",
    "Verdict",
    "best_verdicts",
    "build_report",
    "classify",
    "load_results",
    "text_summary",
]
