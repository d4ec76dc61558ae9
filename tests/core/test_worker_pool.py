"""``WorkerPool``: ``shutdown()`` while operations run retires the pools they took; each
retired pool stops as soon as the last operation on *it* ends, whatever other operations are
still running, and a pool no running operation took stops at once. An operation stays on the
pool it took to its end.

Each operation here runs in its own thread and is held open by events; the threads of a pool
are captured from inside the tasks it ran, so the test can join them."""

from __future__ import annotations

import threading

import pytest

from archive_parallel.pool import SizedExecutor, WorkerPool

TIMEOUT = 30


def _start_all_threads(executor: SizedExecutor) -> list[threading.Thread]:
    """Make every worker of ``executor`` start (each task waits for all the others); the
    worker threads."""
    barrier = threading.Barrier(executor.size)

    def task() -> threading.Thread:
        barrier.wait(TIMEOUT)
        return threading.current_thread()

    futures = [executor.submit(task) for _ in range(executor.size)]
    return [f.result(TIMEOUT) for f in futures]


def _all_ended(threads: list[threading.Thread]) -> bool:
    for thread in threads:
        thread.join(TIMEOUT)
    return not any(thread.is_alive() for thread in threads)


class _Operation:
    """An operation on ``pool`` in a thread of its own: it takes a pool of ``size``, starts
    its workers, and ends when ``finish()`` is called."""

    def __init__(self, pool: WorkerPool, size: int = 2) -> None:
        self.executor: SizedExecutor | None = None
        self.workers: list[threading.Thread] = []
        self._ready, self._go = threading.Event(), threading.Event()
        self._error: BaseException | None = None

        def run() -> None:
            try:
                with pool.in_use():
                    self.executor = pool.get(size)
                    self.workers = _start_all_threads(self.executor)
                    self._ready.set()
                    assert self._go.wait(TIMEOUT)
            except BaseException as exc:  # handed to the test
                self._error = exc
                self._ready.set()

        self._thread = threading.Thread(target=run)
        self._thread.start()
        assert self._ready.wait(TIMEOUT)
        assert self._error is None, self._error

    def finish(self) -> None:
        self._go.set()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive()
        assert self._error is None, self._error


def test_a_retired_pool_stops_when_its_own_last_operation_ends_while_others_run():
    pool = WorkerPool()
    first = _Operation(pool)
    pool.shutdown()  # returns at once: ``first`` still runs on its pool
    assert not pool.active
    assert all(t.is_alive() for t in first.workers)
    second = _Operation(pool)  # a new pool, and it keeps running
    assert second.executor is not first.executor
    try:
        first.finish()
        # nothing else runs on the retired pool: it is gone, though ``second`` still runs
        assert _all_ended(first.workers)
        assert pool._retired == []
        assert all(t.is_alive() for t in second.workers)
    finally:
        second.finish()
    pool.shutdown()
    assert _all_ended(second.workers)


def test_a_retired_pool_two_operations_took_stops_when_the_second_ends():
    pool = WorkerPool()
    first = _Operation(pool)
    second = _Operation(pool)
    assert second.executor is first.executor
    pool.shutdown()
    first.finish()
    assert all(t.is_alive() for t in second.workers)  # still in use
    second.finish()
    assert _all_ended(first.workers + second.workers)
    assert pool._retired == []


def test_shutdown_while_an_operation_runs_stops_the_pools_it_did_not_take_at_once():
    pool = WorkerPool()
    running = _Operation(pool, size=2)
    idle = _start_all_threads(pool.get(3))  # taken by no running operation
    try:
        pool.shutdown()
        assert _all_ended(idle)
        assert pool._retired == [running.executor]
        assert all(t.is_alive() for t in running.workers)
    finally:
        running.finish()
    assert _all_ended(running.workers)
    assert pool._retired == []


def test_an_operation_stays_on_the_pool_it_took_and_a_nested_one_shares_it():
    pool = WorkerPool()
    with pool.in_use():
        taken = pool.get(2)
        pool.shutdown()
        assert pool.get(2) is taken  # not a second pool for the same operation
        with pool.in_use():  # an operation calling another one
            assert pool.get(2) is taken
        assert taken.submit(lambda: 7).result(TIMEOUT) == 7  # the nested end kept it
    with pytest.raises(RuntimeError):  # shut down with the operation
        taken.submit(lambda: 7)
    with pool.in_use():
        fresh = pool.get(2)
    assert fresh is not taken
    assert pool.active
    pool.shutdown()
    with pytest.raises(RuntimeError):
        fresh.submit(lambda: 7)


def test_a_retired_pool_whose_shutdown_was_interrupted_is_shut_down_by_the_next_cleanup():
    pool = WorkerPool()
    with pytest.raises(KeyboardInterrupt), pool.in_use():
        taken = pool.get(2)
        workers = _start_all_threads(taken)
        pool.shutdown()

        def interrupted(*args, **kwargs):  # Ctrl-C as the last operation shuts it down
            del taken.shutdown
            raise KeyboardInterrupt

        taken.shutdown = interrupted
    assert pool._retired == [taken]  # not forgotten, and no longer in use
    assert all(t.is_alive() for t in workers)
    pool.shutdown()
    assert _all_ended(workers)
    assert pool._retired == []
