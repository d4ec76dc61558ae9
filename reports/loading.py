"""Find and read every results folder below the paths given: one ResultSet for the report.

A results root holds ``<machine key>/<run_id>/results.csv`` with ``fingerprint.json``,
``run.json`` and ``cells.jsonl`` beside it, and ``machine.json`` and ``tuned.json`` one level
up. The reader searches recursively, so a root, a machine folder or a single run folder all
work. A run belongs to the machine its own fingerprint names (a folder can be renamed or
copied anywhere). Nothing here raises on bad data: unreadable files, odd values, rows cut
short or missing from a table (``bench.results.read_run_table``, which leaves the cut rows out
and rebuilds the missing ones from ``cells.jsonl``), torn records (``reports.integrity``) and
a run folder without ``run.json`` become notes in ``ResultSet.problems``, which the report
shows as warnings. Invalid rows are kept (flagged by ``valid``) so the report can list them;
the verdicts skip them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.newest_code import add_code_columns
from bench.results import read_run_table
from bench.schema import FINGERPRINT_FILE, KNOWN_VERSIONS, RESULTS_FILE, RUN_FILE, TUNED_FILE
from reports.integrity import check_run_folder
from reports.schema import ALL_COLUMNS, normalize

logger = logging.getLogger(__name__)


@dataclass
class RunInfo:
    """One run folder: where it is, what run.json and fingerprint.json said."""

    folder: Path
    run_id: str
    machine_key: str
    run: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool | None:
        value = self.run.get("complete")
        return value if isinstance(value, bool) else None


@dataclass
class ResultSet:
    """Everything the report draws from: the tidy table, the machines, tuning, problems."""

    table: pd.DataFrame
    runs: list[RunInfo] = field(default_factory=list)
    tuned: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.table.empty

    @property
    def platforms(self) -> list[str]:
        """Machine keys in a stable order (as first seen): one column of the report each."""
        keys = list(dict.fromkeys(self.table["machine_key"].tolist()))
        keys += [r.machine_key for r in self.runs if r.machine_key not in keys]
        return list(dict.fromkeys(k for k in keys if k))

    def fingerprint(self, machine_key: str) -> dict[str, Any]:
        """The latest fingerprint seen for a machine (runs sort by run_id, a timestamp)."""
        found = [r for r in self.runs if r.machine_key == machine_key and r.fingerprint]
        return max(found, key=lambda r: r.run_id).fingerprint if found else {}

    def label(self, machine_key: str) -> str:
        """The name people know the machine by: its name and model, and its usable cores
        when another machine of these results would read the same."""
        base = self._base_label(machine_key)
        twins = [k for k in self.platforms if k != machine_key and self._base_label(k) == base]
        cores = self.cores(machine_key)
        if twins and cores:
            return f"{base}, {cores} usable core{'s' if cores != 1 else ''}"
        return base

    def headline_label(self, machine_key: str) -> str:
        """The label without the cores (the headline sentence states them itself)."""
        return self._base_label(machine_key)

    def _base_label(self, machine_key: str) -> str:
        mine = self.table[self.table["machine_key"] == machine_key]
        names = [x for x in mine["machine"] if x] if "machine" in mine else []
        labels = [x for x in mine["platform_label"] if x]
        fp = self.fingerprint(machine_key)
        name = names[-1] if names else fp.get("machine") or ""
        model = labels[-1] if labels else fp.get("platform_label") or ""
        if name and model:
            return f"{name} ({model})"
        return name or model or machine_key

    def cores(self, machine_key: str) -> int | None:
        """The machine's usable cores in these runs (None when not recorded)."""
        mine = self.table.loc[self.table["machine_key"] == machine_key, "cores_usable"]
        mine = pd.to_numeric(mine, errors="coerce").dropna()
        if not mine.empty:
            return int(mine.min())
        value = self.fingerprint(machine_key).get("cores_usable")
        return int(value) if isinstance(value, int | float) and value else None


def _read_json(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({exc.__class__.__name__}: {exc})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a JSON object, found {type(data).__name__}")
        return {}
    return data


def _read_table(path: Path, problems: list[str]) -> pd.DataFrame | None:
    """The tidy table of one results.csv (``bench.results.read_run_table``, all text first);
    None when it has no row."""
    raw, notes = read_run_table(path, dtype=str, keep_default_na=False)
    problems.extend(notes)
    if raw is None:
        return None
    table, notes = normalize(raw, str(path))
    problems.extend(notes)
    return table


def _results_files(paths: Iterable[Path], problems: list[str]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file() and path.name == RESULTS_FILE:
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.rglob(RESULTS_FILE)))
        elif path.exists():
            problems.append(f"{path}: not a folder or a {RESULTS_FILE}")
        else:
            problems.append(f"{path}: does not exist")
    return list(dict.fromkeys(p.resolve() for p in found))


def _tuned_files(paths: Iterable[Path], run_folders: Iterable[Path]) -> list[Path]:
    candidates: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates.extend(sorted(path.rglob(TUNED_FILE)))
    for folder in run_folders:
        candidates.append(folder.parent / TUNED_FILE)
        candidates.append(folder / TUNED_FILE)
    return list(dict.fromkeys(p.resolve() for p in candidates if p.is_file()))


def _machine_key_for(
    table: pd.DataFrame, fingerprint: dict[str, Any], folder: Path, problems: list[str]
) -> str:
    """The run's own record of its machine wins over the table and the folder's name."""
    in_table = [k for k in table["machine_key"].unique() if k]
    own = fingerprint.get("machine_key")
    if own:
        if in_table and in_table != [own]:
            problems.append(
                f"{folder}: results.csv names machine {', '.join(in_table)} but the run's "
                f"fingerprint.json says {own}; using {own}"
            )
        return str(own)
    if in_table:
        return in_table[0]
    return str(fingerprint.get("platform_key") or folder.parent.name or "unknown")


def _build_missing_tables(paths: Sequence[Path], problems: list[str]) -> None:
    """Build ``results.csv`` for run folders that have measured cells but no table (a sweep
    on a machine without pandas, or one killed before its table was written), as
    ``archive-bench report`` does; a folder it cannot write into is named in ``problems``."""
    from bench.results import build_missing_tables

    for path in paths:
        try:
            built = build_missing_tables([path])
        except OSError as exc:
            problems.append(
                f"{path}: a run with measured cells but no {RESULTS_FILE} is left out: "
                f"its table could not be written ({exc.strerror or exc})"
            )
            continue
        for run_dir in built:
            logger.info("%s: built %s from its measured cells", run_dir, RESULTS_FILE)


def load_results(paths: Sequence[Path | str]) -> ResultSet:
    """Read every ``results.csv`` below ``paths`` with its fingerprint, run and tuned files
    (building the table first where a run has measured cells but none)."""
    paths = [Path(p) for p in paths]
    problems: list[str] = []
    tables: list[pd.DataFrame] = []
    runs: list[RunInfo] = []
    _build_missing_tables(paths, problems)

    csv_files = _results_files(paths, problems)
    if not csv_files and not problems:
        problems.append(
            "no results.csv found below "
            + ", ".join(str(p) for p in paths)
            + " (run a sweep first: archive-bench run)"
        )
    for csv_path in csv_files:
        folder = csv_path.parent
        table = _read_table(csv_path, problems)
        fingerprint_path = folder / FINGERPRINT_FILE
        if fingerprint_path.is_file():
            fingerprint = _read_json(fingerprint_path, problems)
        else:
            fingerprint = {}
            problems.append(f"{folder}: no {FINGERPRINT_FILE}; the machine is not described")
        run_path = folder / RUN_FILE
        if run_path.is_file():
            run = _read_json(run_path, problems)
        else:
            run = {}
            problems.append(
                f"{folder}: no {RUN_FILE}; whether the run finished and the code it measured "
                "are unknown"
            )
        problems.extend(check_run_folder(folder))
        if table is None:
            continue
        key = _machine_key_for(table, fingerprint, folder, problems)
        table["machine_key"] = key
        table.loc[table["machine"] == "", "machine"] = str(fingerprint.get("machine") or "")
        if fingerprint.get("cores_usable"):
            table["cores_usable"] = table["cores_usable"].fillna(float(fingerprint["cores_usable"]))
        table.loc[table["platform_key"] == "", "platform_key"] = str(
            fingerprint.get("platform_key") or ""
        )
        label = fingerprint.get("platform_label") or ""
        table.loc[table["platform_label"] == "", "platform_label"] = label
        run_id = str(run.get("run_id") or folder.name)
        table.loc[table["run_id"] == "", "run_id"] = run_id
        table["_run_dir"] = str(folder)
        tables.append(table)
        runs.append(RunInfo(folder, run_id, key, run, fingerprint))
        version = run.get("schema_version")
        if version is not None and version not in KNOWN_VERSIONS:
            problems.append(f"{run_path}: unknown schema version {version}")
        if run.get("complete") is False:
            problems.append(f"{folder}: run {run_id} did not finish (run.json complete=false)")

    tuned: dict[str, dict[str, Any]] = {}
    for tuned_path in _tuned_files(paths, (r.folder for r in runs)):
        data = _read_json(tuned_path, problems)
        if data:
            key = data.get("machine_key") or data.get("platform_key") or tuned_path.parent.name
            tuned[str(key)] = data

    if tables:
        table = add_code_columns(
            pd.concat(tables, ignore_index=True), {str(run.folder): run.run for run in runs}
        )
    else:
        table = pd.DataFrame(columns=[*ALL_COLUMNS, "_run_dir", "_usable", "_code", "_run_order"])
    logger.info("loaded %d rows from %d results files", len(table), len(tables))
    return ResultSet(table=table, runs=runs, tuned=tuned, problems=problems, sources=paths)
