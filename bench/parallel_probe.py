"""Whether this machine gives a run its cores right now: pure compression in threads against
one thread, before and after a side-by-side measurement.

``zlib.compress`` releases the interpreter lock for the whole call and touches little memory,
so on an idle machine ``N`` threads of it run about ``N`` times the work of one in the same
time (1.9x or more on two free cores). Well below that, something else has the cores: other
processes, a busy virtual machine host, thermal throttling on a Pi. Every thread-bound ratio
measured meanwhile is then lower and noisier than the code deserves, so ``python -m
bench.codec_targets --measure`` probes before its first round and after its last, prints both
and files them in the run's ``run.json``, so that a busy run can be told from a slow change.
``python -m bench.parallel_probe`` prints one probe.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import threading
import time
import zlib
from typing import Any

#: the data each call compresses: 1 MiB of hex digests, which deflate halves slowly (tens of
#: milliseconds a call, long enough for a scheduler to show what it gives); the same each time
DATA = b"".join(hashlib.md5(b"%d" % n).hexdigest().encode() + b"\n" for n in range(31_000))
CALLS = 4
#: below this share of the threads' count, the probe says the machine was busy
BUSY_BELOW = 0.9


def _compress(calls: int) -> None:
    for _ in range(calls):
        zlib.compress(DATA, 6)


def _threads_time(threads: int, calls: int) -> float:
    workers = [threading.Thread(target=_compress, args=(calls,)) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def probe(threads: int = 2, rounds: int = 5, calls: int = CALLS) -> dict[str, Any]:
    """``threads`` threads of compression against one, ``rounds`` times: the median of the
    rounds' ratios of work per second (``scaling``, at most about ``threads``), and whether
    it fell below ``BUSY_BELOW`` of ``threads`` (``busy``)."""
    ratios, singles = [], []
    for _ in range(max(1, rounds)):
        single = _threads_time(1, calls)
        together = _threads_time(threads, calls)
        singles.append(single)
        ratios.append(threads * single / together)
    scaling = statistics.median(ratios)
    return {
        "threads": threads,
        "scaling": round(scaling, 3),
        "one_thread_s": round(statistics.median(singles), 6),
        "busy": scaling < BUSY_BELOW * threads,
    }


def describe(result: dict[str, Any], when: str) -> str:
    """One line for people: what the probe found ``when`` (``"before"``, ``"after"``)."""
    line = (
        f"machine {when}: {result['threads']} threads of compression did "
        f"{result['scaling']:.2f}x the work of one"
    )
    if result["busy"]:
        line += (
            f" (a free machine: about {result['threads'] * 0.95:.1f}x); something else had "
            "the cores, so thread-bound ratios of this run read low and noisy"
        )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parallel_probe", description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="threads (2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (5)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = probe(max(1, args.threads), args.rounds)
    print(json.dumps(result) if args.json else describe(result, "now"))
    return 0


if __name__ == "__main__":
    from bench.cli import run_tool

    run_tool("bench.parallel_probe", main)
