"""bench: the benchmark harness of archive-parallel (pyperf timing, memray memory, tuning).

Entry point: ``archive-bench`` / ``python -m bench`` (see ``bench.cli``). The sweep is
``bench.runner``, the table ``bench.results``, statistics ``bench.stats``, the machine
``bench.fingerprint``, tuned defaults ``bench.tune``, run comparison ``bench.compare``, and
which runs' cells count (the newest code's) ``bench.newest_code``.
"""
