"""Which rows of a results table count: those of the code the newest run measuring them measured.

After a change to the library, a run of older code (faster before a change that made the
library slower, say) must not decide what the code says today. ``add_code_columns`` gives each
row of a loaded table ``_code``, the code its run measured (``provenance.pooling_key`` of its
run.json; a run that did not record it stands alone under its folder), and ``_run_order``, its
run's place among its machine's runs (run ids begin with the time they started). Of each row
of the report (machine, operation, format, workload: ``ROW_KEYS``), the rows that count are
those of the code its newest run measured (``current_rows``); a run none of whose rows count
is superseded (``superseded_run_dirs``). The report's verdicts, headline and regressions and
``archive-bench tune`` all follow this one rule. Rows of side-by-side checks (``_check``)
decide regressions only: verdicts and tuning read ``sweep_rows``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import pandas as pd

from bench.provenance import pooling_key
from bench.schema import CHECK_PRESET

#: what one row of the report is: a table's rows are judged per value of these columns
ROW_KEYS = ("machine_key", "operation", "format", "workload")
CODE_COLUMNS = ("_code", "_run_order")
#: rows of a side-by-side check of a sweep (a ``confirm`` run): they decide whether the
#: sweep's cells are slower than the old way, and nothing else (``sweep_rows``)
CHECK_COLUMN = "_check"


def add_code_columns(table: pd.DataFrame, runs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``table`` (its rows name their run folder in ``_run_dir``, and carry ``machine_key``
    and, where known, ``run_id``) with ``_code`` and ``_run_order``, from ``runs``: each run
    folder's run.json (a folder missing there recorded no code)."""
    folders = table["_run_dir"].astype(str)
    code = {
        folder: pooling_key(dict(runs.get(folder) or {})) or f"run {folder}"
        for folder in folders.unique()
    }
    named = table["run_id"].astype(str) if "run_id" in table else pd.Series("", table.index)
    # a table without run ids: its folder's name is the run id it was filed under
    run_ids = named.where(~named.isin(["", "nan"]), folders.map(lambda f: PurePath(f).name))
    order: dict[str, int] = {}
    filed = pd.DataFrame(
        {"machine": table["machine_key"].astype(str), "run": run_ids, "folder": folders}
    )
    for _machine, mine in filed.drop_duplicates().groupby("machine", sort=False):
        ranked = mine.sort_values("run", kind="stable")["folder"]
        order.update((folder, index) for index, folder in enumerate(dict.fromkeys(ranked)))
    checks = {
        folder
        for folder in folders.unique()
        if (runs.get(folder) or {}).get("preset") == CHECK_PRESET
    }
    return table.assign(
        _code=folders.map(code),
        _run_order=folders.map(order),
        **{CHECK_COLUMN: folders.isin(checks)},
    )


def sweep_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` without those of side-by-side checks (``CHECK_COLUMN``): a check times again
    only the cells a sweep read slower than the old way, so its rows would count a
    configuration twice in the verdicts and favour the cells that read slow once."""
    if CHECK_COLUMN not in rows:
        return rows
    return rows[~rows[CHECK_COLUMN].astype(bool)]


def current_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Of each row's (``ROW_KEYS``) rows, those of the code its newest run measured. Tables
    loaded without the code columns are kept whole."""
    if rows.empty or any(column not in rows for column in CODE_COLUMNS):
        return rows
    keys = list(ROW_KEYS)
    newest = rows.groupby(keys, sort=False, dropna=False)["_run_order"].transform("max")
    newest_code = rows["_code"].where(rows["_run_order"] == newest)
    code = newest_code.groupby([rows[k] for k in keys], dropna=False).transform("first")
    return rows[rows["_code"] == code]


def superseded_run_dirs(table: pd.DataFrame) -> list[str]:
    """Run folders of ``table``, in its order, none of whose rows count (``current_rows``):
    a newer run of other code measured every row they measured."""
    if table.empty or any(column not in table for column in CODE_COLUMNS):
        return []
    current = set(current_rows(table)["_run_dir"].astype(str))
    return [f for f in dict.fromkeys(table["_run_dir"].astype(str)) if f not in current]
