"""The results table's contract: one list of columns, their kinds and meanings, and a version.

This is the only place the columns are listed. ``bench.results`` writes exactly these columns
in this order; ``reports.schema`` reads them by kind. The user-facing description of every
file of a results folder, this table included, is ``docs/results-schema.md`` (``SCHEMA_DOC``);
a test keeps it naming every column below. Bump ``SCHEMA_VERSION`` when a column changes
meaning or is removed (adding a column at the end of a kind's list is compatible).
"""

from __future__ import annotations

#: version of results.csv/json and run.json; readers flag other versions as unknown
SCHEMA_VERSION = 2
#: versions a reader understands (1: before machine keys, usable cores and memory labels)
KNOWN_VERSIONS = (1, 2)
SCHEMA_DOC = "docs/results-schema.md"

# The files of a results folder (``<root>/<machine key>/<run id>/`` and, one level up, the
# machine's own), named once here for the writers in ``bench`` and the readers in ``reports``.
RESULTS_FILE = "results.csv"
RESULTS_JSON_FILE = "results.json"
CELLS_FILE = "cells.jsonl"
RUN_FILE = "run.json"
FINGERPRINT_FILE = "fingerprint.json"
MACHINE_FILE = "machine.json"
TUNED_FILE = "tuned.json"

#: the preset of a side-by-side check of a sweep's regressions (``bench.confirm``)
CHECK_PRESET = "confirm"
#: presets of runs timed side by side in one process (``bench.confirm``, ``bench.interleaved``
#: for the codec targets): not sweeps of their own
SIDE_BY_SIDE_PRESETS = (CHECK_PRESET, "interleaved")

TEXT, NUMBER, FLAG = "text", "number", "flag"

#: (column, kind, meaning), in file order
COLUMN_SPECS: tuple[tuple[str, str, str], ...] = (
    ("schema_version", NUMBER, "version of this table's layout (see SCHEMA_DOC)"),
    ("run_id", TEXT, "the run folder name, e.g. 20261129-231500-quick"),
    ("machine", TEXT, "machine name (--machine, default host name + model)"),
    ("machine_key", TEXT, "machine name + usable cores, e.g. pi4-cortex-a72-4c: what joins runs"),
    ("cores_usable", NUMBER, "cores the run could use (affinity and cgroup quota)"),
    ("platform_key", TEXT, "platform family, e.g. raspberry-pi-4, macos-arm64, linux-x86_64"),
    ("platform_label", TEXT, "machine for people, e.g. 'Raspberry Pi 4 Model B Rev 1.4'"),
    ("cell_id", TEXT, "stable id of the cell, safe as a file name (joins runs in compare)"),
    ("operation", TEXT, "create, extract, verify, checksum or walk"),
    (
        "format",
        TEXT,
        "tar.gz, tar.bz2, tar.xz, tar, zip, tar.zst; <format>+<maker> for archives made by "
        "another tool (tar.gz+tar, zip+zip, tar.gz+tarfile, zip+zipfile); '' for checksum and walk",
    ),
    ("workload", TEXT, "fixtures_gen profile name"),
    ("scale", NUMBER, "fixtures_gen scale"),
    (
        "variant",
        TEXT,
        "parallel, sequential (library, parallel off), reference (the old way: "
        "a loop that works as the old sequential class did), pigz",
    ),
    ("threads", NUMBER, "thread_pool_size (pigz -p N for pigz; 1 for sequential/reference)"),
    ("batch_size", NUMBER, "parallel_batch_size; 0 where it does not apply (baselines, pigz)"),
    (
        "backend",
        TEXT,
        "create: compression_backend (zlib, zlib-ng, isal); extract/verify: "
        "decompression_backend (zlib, zlib-ng, isal, rapidgzip)",
    ),
    ("samples", NUMBER, "number of timing values (pyperf values over all worker processes)"),
    ("median_s", NUMBER, "median seconds per operation"),
    ("mean_s", NUMBER, "mean seconds per operation"),
    ("stdev_s", NUMBER, "sample standard deviation of the seconds"),
    ("min_s", NUMBER, "fastest value"),
    ("max_s", NUMBER, "slowest value"),
    ("median_interval_share", NUMBER, "width of the median's 95% interval / the median"),
    ("speedup", NUMBER, "vs own sequential: sequential median / this median (the scaling view)"),
    ("speedup_ci_low", NUMBER, "95% bootstrap interval of speedup, low end"),
    ("speedup_ci_high", NUMBER, "95% bootstrap interval of speedup, high end"),
    ("speedup_vs_reference", NUMBER, "vs the old way: reference median / this median"),
    ("speedup_vs_reference_ci_low", NUMBER, "its 95% interval, low end"),
    ("speedup_vs_reference_ci_high", NUMBER, "its 95% interval, high end"),
    ("efficiency", NUMBER, "speedup / min(threads, cores_usable)"),
    (
        "verdict_baseline",
        TEXT,
        "what the verdicts compare with: reference (the old way); sequential when no "
        "reference was measured or its ratio has no interval (too few values, an invalid "
        "reference); none when neither ratio has an interval (no verdict)",
    ),
    (
        "verdict_2x",
        TEXT,
        "meets (interval low end >= 2), misses (high end < 2), inconclusive, "
        "beyond this machine (2x is out of reach of the usable cores); '' for baselines",
    ),
    ("verdict_4x", TEXT, "the same against 4"),
    ("regression", FLAG, "slower than the old way: speedup_vs_reference_ci_high < 1"),
    ("oversubscribed", FLAG, "threads > cores_usable"),
    ("suspect_note", TEXT, "why a result is suspect (superlinear speedup...), or ''"),
    ("peak_rss_bytes", NUMBER, "OS peak RSS of the memory run's process (NaN if not measured)"),
    ("peak_heap_bytes", NUMBER, "memray peak heap (NaN when memray did not run)"),
    (
        "memory_delta_bytes",
        NUMBER,
        "peak minus the sequential cell's peak, same memory_source only (NaN when the two differ)",
    ),
    (
        "memory_source",
        TEXT,
        "memray (peak heap of Python allocations) or rusage (OS peak RSS); "
        "'' when not measured (pigz runs as an external program)",
    ),
    (
        "memory_budget_verdict",
        TEXT,
        "within or over the memory budget (memory_delta_bytes <= "
        "64 MiB at up to 4 threads); '' where it does not apply",
    ),
    ("bytes_processed", NUMBER, "uncompressed bytes of the workload"),
    ("files_processed", NUMBER, "files of the workload"),
    ("throughput_mb_s", NUMBER, "bytes_processed / median_s / 1e6"),
    ("valid", FLAG, "output verified (archive extracted and matched / tree matched the manifest)"),
    ("invalid_reason", TEXT, "why not valid"),
    (
        "noisy",
        FLAG,
        "median interval wider than the noise share, pyperf stability warnings, or "
        "relative stdev > 10%: such a cell does not decide a verdict",
    ),
    ("noise_note", TEXT, "why noisy"),
    ("throttled", FLAG, "a Raspberry Pi was throttled during the cell"),
    (
        "emulated",
        FLAG,
        "measured under an emulator (qemu-user, Rosetta; the fingerprint says which): such "
        "cells decide no verdict and no tuned profile",
    ),
    (
        "serial_fraction",
        NUMBER,
        "Amdahl serial fraction of this cell's scaling curve "
        "(operation, format, workload, batch_size, backend); NaN when not estimable",
    ),
    ("pyperf_json", TEXT, "pyperf's JSON, relative to the run folder, or ''"),
    ("flamegraph", TEXT, "memray flamegraph HTML, relative to the run folder, or ''"),
    (
        "output_bytes",
        NUMBER,
        "size in bytes of the archive a create cell wrote (NaN for other operations)",
    ),
    (
        "side_by_side",
        FLAG,
        "its ratio to the old way was timed in alternating rounds in one process (regression "
        "checks, codec targets), rounds paired: such a row decides whether the same cell of a "
        "sweep of the same code is slower than the old way",
    ),
)

COLUMNS: dict[str, str] = {name: meaning for name, _kind, meaning in COLUMN_SPECS}
#: columns added at the end since version 2 began: a version 2 table may lack them
ADDED_IN_VERSION_2 = ("output_bytes", "side_by_side")
TEXT_COLUMNS = tuple(name for name, kind, _ in COLUMN_SPECS if kind == TEXT)
NUMBER_COLUMNS = tuple(name for name, kind, _ in COLUMN_SPECS if kind == NUMBER)
FLAG_COLUMNS = tuple(name for name, kind, _ in COLUMN_SPECS if kind == FLAG)

#: verdict words
MEETS, MISSES, INCONCLUSIVE, BEYOND = "meets", "misses", "inconclusive", "beyond this machine"
#: memory budget: extra peak memory over sequential allowed up to this many threads
MEMORY_BUDGET_BYTES = 64 * 2**20
MEMORY_BUDGET_THREADS = 4
#: memory_source -> words for people (never draw two sources on one axis)
MEMORY_SOURCE_LABELS = {"memray": "memray heap", "rusage": "OS peak RSS"}
#: a cell whose median's 95% interval is wider than this share of the median is noisy
NOISY_INTERVAL_SHARE = 0.20
#: the fewest values on either side of a ratio (or paired rounds) that give an interval:
#: simulated, independent values cover the true ratio 89-93% of the time at three or four
#: (73% for three paired rounds), 96-99% from five (``bench.stats``; here so that a sweep
#: without numpy, on a 32-bit Pi, can warn about it too)
MIN_SAMPLES = 5
