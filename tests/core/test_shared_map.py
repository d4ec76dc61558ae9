"""``pool.shared_map``: the caller and the pool's workers share items, every result once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_parallel.pool import shared_map


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="test-shared") as executor:
        yield executor


def test_every_item_gives_one_result_in_the_callers_thread(pool):
    caller = threading.get_ident()
    seen_in: set[int] = set()

    def square(n: int) -> tuple[int, int]:
        time.sleep(0.001)  # leave the workers time to take some
        return n, n * n

    results = []
    for result in shared_map(pool, square, range(200), helpers=2):
        seen_in.add(threading.get_ident())
        results.append(result)
    assert sorted(results) == [(n, n * n) for n in range(200)]
    assert seen_in == {caller}


@pytest.mark.parametrize("helpers", [0, 1, 2])
def test_without_a_pool_or_with_one_item_the_caller_does_it_all(pool, helpers):
    caller = threading.get_ident()
    ran_in: list[int] = []

    def record(n: int) -> int:
        ran_in.append(threading.get_ident())
        return n

    assert list(shared_map(None, record, range(5), helpers)) == list(range(5))
    assert list(shared_map(pool, record, [7], helpers)) == [7]
    assert set(ran_in) == {caller}


@pytest.mark.parametrize("failing", [0, 57, 199])
def test_the_first_error_stops_everyone_and_is_raised(pool, failing):
    started: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        if n == failing:
            raise ValueError(f"item {n} is damaged")
        time.sleep(0.0005)
        return n

    with pytest.raises(ValueError, match=f"item {failing} is damaged"):
        for _ in shared_map(pool, work, range(200), helpers=2):
            pass
    done = len(started)
    time.sleep(0.05)
    assert len(started) == done  # no worker is still taking items
    if failing == 0:
        assert done < 200


def test_leaving_early_waits_for_the_workers(pool):
    finished: list[int] = []

    def slow(n: int) -> int:
        time.sleep(0.01)
        finished.append(n)
        return n

    results = shared_map(pool, slow, range(100), helpers=2)
    next(results)
    results.close()  # the caller stops: the workers finish their item and take no more
    count = len(finished)
    time.sleep(0.05)
    assert len(finished) == count < 100


def test_a_helper_queued_behind_a_busy_worker_is_not_waited_for():
    """The only worker is busy elsewhere: the caller does every item and returns at once."""
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as single:
        busy = single.submit(release.wait, 30)
        try:
            assert sorted(shared_map(single, lambda n: n + 1, range(20), helpers=1)) == list(
                range(1, 21)
            )
            assert not busy.done()
        finally:
            release.set()


def test_workers_take_items_while_the_caller_is_still_producing_them(pool):
    """Items come from a generator doing the caller's work: workers start on the first ones
    before the generator has finished."""
    caller = threading.get_ident()
    worker_started = threading.Event()

    def work(n: int) -> int:
        if threading.get_ident() != caller:
            worker_started.set()
        return n

    def produce():
        yield from range(3)
        # the caller keeps planning; a worker should be writing meanwhile
        assert worker_started.wait(10), "no worker took an item while the caller produced"
        yield from range(3, 40)

    assert sorted(shared_map(pool, work, produce(), helpers=2)) == list(range(40))


def test_an_error_while_producing_stops_the_waiting_workers(pool):
    def produce():
        yield from range(5)
        raise RuntimeError("a refused name")

    with pytest.raises(RuntimeError, match="a refused name"):
        for _ in shared_map(pool, lambda n: n, produce(), helpers=2):
            pass
    # the workers were released: the pool still runs new work at once
    assert pool.submit(lambda: 7).result(timeout=5) == 7


@pytest.mark.parametrize("cores", [1, 2])
def test_no_more_threads_than_the_cores_the_process_may_use(monkeypatch, cores):
    """Four workers on a 2-core machine: the caller and one helper do the work (more would
    only contend for the GIL); on one core the caller does it all."""
    import archive_parallel.pool as pool_module

    monkeypatch.setattr(pool_module, "usable_cpu_count", lambda: cores)
    ran_in: set[int] = set()
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            ran_in.add(threading.get_ident())
        time.sleep(0.002)
        return n

    with ThreadPoolExecutor(max_workers=4) as four:
        assert sorted(shared_map(four, work, range(60), helpers=3)) == list(range(60))
    assert len(ran_in) <= cores
