"""``OrderedWindow``: results in submission order, at most ``limit`` tasks queued or running,
and with ``spare`` a slow task at the head stops no worker: later tasks start while it runs,
their results wait, still handed back in order."""

from __future__ import annotations

import threading

from archive_parallel.pool import OrderedWindow, WorkerPool


def _run(window, release, started, fn_count):
    """Submit a head task that waits for ``release``, then quick ones; returns the results."""
    results: list[int] = []
    results += window.submit(lambda: (started.set(), release.wait(10), 0)[-1])
    started.wait(10)
    for i in range(1, fn_count):
        results += window.submit(lambda i=i: i)
    return results


def test_with_spare_later_tasks_run_while_the_head_is_still_running():
    pool = WorkerPool()
    try:
        executor = pool.get(2)
        release, started = threading.Event(), threading.Event()
        window: OrderedWindow[int] = OrderedWindow(executor, 2, spare=3)
        # the head blocks; four more fit: one runs beside it and three results wait
        early = _run(window, release, started, 5)
        assert early == []
        assert window.peak_in_flight == 5
        release.set()
        assert list(window.drain()) == [0, 1, 2, 3, 4]
    finally:
        pool.shutdown()


def test_without_spare_the_head_bounds_what_is_held():
    pool = WorkerPool()
    try:
        executor = pool.get(2)
        release, started = threading.Event(), threading.Event()
        window: OrderedWindow[int] = OrderedWindow(executor, 2)
        threading.Timer(0.2, release.set).start()
        results = _run(window, release, started, 5)
        results += window.drain()
        assert results == [0, 1, 2, 3, 4]
        assert window.peak_in_flight == 2
    finally:
        release.set()
        pool.shutdown()


def test_spare_never_lets_more_than_limit_tasks_wait_for_a_worker():
    pool = WorkerPool()
    try:
        executor = pool.get(2)
        gates = [threading.Event() for _ in range(6)]
        running = threading.Semaphore(0)
        window: OrderedWindow[int] = OrderedWindow(executor, 2, spare=4)

        def task(i: int) -> int:
            running.release()
            gates[i].wait(10)
            return i

        assert window.submit(task, 0) == [] and window.submit(task, 1) == []
        running.acquire(timeout=10)
        running.acquire(timeout=10)
        # two tasks are running: a third may only be submitted once one of them ends
        threading.Timer(0.1, gates[1].set).start()
        assert window.submit(task, 2) == []
        assert gates[1].is_set()
        for gate in gates:
            gate.set()
        assert list(window.drain()) == [0, 1, 2]
    finally:
        pool.shutdown()


def test_inline_windows_ignore_spare():
    window: OrderedWindow[int] = OrderedWindow(None, 4, spare=4)
    assert window.submit(lambda: 1) == []
    assert window.submit(lambda: 2) == [1]
    assert list(window.drain()) == [2]
