"""The worker pool owner and the bounded, ordered submission window every engine uses.

``WorkerPool`` creates ``SizedExecutor`` thread pools lazily, one per requested size, and
shuts them all down on ``shutdown()`` (a new one is created on next use). ``OrderedWindow``
keeps at most ``limit`` futures in flight (and ``spare`` finished ones more, when asked)
and hands results back in submission order, so a pipeline's memory is bounded by
``limit + spare`` units of work whatever the input size. Leaving a
window early (error, Ctrl-C) cancels what has not started and waits for what has, so no
worker is left writing after the caller has cleaned up. Every submission and every result
collected is an interrupt checkpoint (``interrupts``): a deferred Ctrl-C stops the caller there.
``shared_map`` is for work whose results need no order: the caller and some workers each take
the next item when free, so the caller never waits for a worker to be scheduled.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar

from .cores import usable_cpu_count
from .interrupts import checkpoint

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

THREAD_NAME_PREFIX = "archive-parallel"
#: batches whose files average less than this run in the caller: a tiny file costs mostly
#: Python work under the GIL, so handing it to a worker only slows the caller down
INLINE_MEAN_FILE_SIZE = 16 * 1024
#: the same for batches whose files a task also deflates: compressing them is work a worker
#: does without the GIL, which pays for the hand-off from a few KiB a file (2 cores, 1,500
#: text files a size, against one thread: 1 KiB 0.91x with 2 threads and 0.71x with 4; 2 KiB
#: 1.07x and 0.91x; 4 KiB 1.33x and 1.39x; 8 KiB 1.44x and 1.44x). A mixed tree's batches
#: straddle it: at 4 KiB the package tree's zip read 0.93x (0.86-1.05) of handing every
#: batch over, at 2 KiB 1.01x (0.92-1.08), and 20,000 files under 2 KiB 1.6x either way.
INLINE_MEAN_DEFLATED_SIZE = 2 * 1024


def is_tiny_batch(total_bytes: int, count: int, deflated: bool = False) -> bool:
    """True when a batch's files average under ``INLINE_MEAN_FILE_SIZE`` (under
    ``INLINE_MEAN_DEFLATED_SIZE`` when the task also deflates them): not worth a worker."""
    mean = INLINE_MEAN_DEFLATED_SIZE if deflated else INLINE_MEAN_FILE_SIZE
    return total_bytes < mean * count


class SizedExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that knows its own size (``size``) and how many of its threads
    have started (``started``), so no caller reads the executor's private attributes.

    ``lane()`` is its serial lane: one more thread, started on first use and shut down with
    the pool, for a stateful decoder whose steps must run one after another (inflating a
    gzip or zstd stream). Steps queued there never wait behind the pool's other tasks (the
    files being written from what they produce), so the decoder, the one part of reading a
    stream that cannot be split, keeps going."""

    def __init__(self, size: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=size, thread_name_prefix=thread_name_prefix)
        self.size = size
        self._prefix = thread_name_prefix
        self._lane: SizedExecutor | None = None
        self._lane_lock = threading.Lock()

    @property
    def started(self) -> int:
        lane = self._lane
        return len(self._threads) + (lane.started if lane is not None else 0)

    def lane(self) -> SizedExecutor:
        with self._lane_lock:
            if self._lane is None:
                self._lane = SizedExecutor(1, f"{self._prefix}-lane" if self._prefix else "")
            return self._lane

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lane_lock:
            lane, self._lane = self._lane, None
        if lane is not None:
            lane.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


#: a stateful decoder gets a thread of its own only on a machine with at least this many
#: cores: one each for the caller, the decoder and a worker writing what they produce
MIN_CORES_FOR_LANE = 3


def decoder_gets_lane() -> bool:
    """Whether the cores this process may use (``cores.usable_cpu_count``: the affinity set
    and the cgroup quota) leave one for a decoder thread of its own (``MIN_CORES_FOR_LANE``);
    ``serial_lane`` follows it."""
    return usable_cpu_count() >= MIN_CORES_FOR_LANE


def serial_lane(executor: Executor | None) -> Executor | None:
    """Where a stateful decoder's steps run: ``executor``'s serial lane when it has one (see
    ``SizedExecutor.lane``), else ``executor`` itself; None (in the caller) without an
    executor or on fewer than ``MIN_CORES_FOR_LANE`` cores. On two cores the decoder's
    thread only takes turns with the caller and the writers, and handing every decoded piece
    from one thread to the other cost more than the overlap gave back (extracting a tar.zst
    took 2-8% longer with it, verifying one 16%)."""
    if executor is None or not decoder_gets_lane():
        return None
    lane = getattr(executor, "lane", None)
    return lane() if callable(lane) else executor


def worker_count(executor: Executor | None, default: int = 1) -> int:
    """How many workers ``executor`` has: its ``size`` when it is one of ours, else
    ``default`` (the sequential path passes None; a foreign executor's size is unknown)."""
    return int(getattr(executor, "size", default) or default)


class WorkerPool:
    """Owns the thread pools of one ArchiveManager; safe to use from many threads.

    Operations run inside ``in_use()``, in their caller's thread. ``shutdown()`` retires the
    pools: the next operation starts new ones, and a pool that operations still run on is
    shut down when the last of *them* ends (each pool counts its own operations), so
    shutting down from one thread never breaks another thread's operation, and under steady
    use from many threads no more pools are alive than operations are running, plus the
    current ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executors: dict[int, SizedExecutor] = {}
        #: how many running operations hold each pool (current or retired); a pool no
        #: operation holds is absent
        self._users: dict[SizedExecutor, int] = {}
        #: pools retired by ``shutdown()`` while operations held them, until they are shut down
        self._retired: list[SizedExecutor] = []
        #: per calling thread, the running operation's lease: the pools it took, by size
        self._local = threading.local()

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Mark an operation as running for the ``with`` body (see the class docstring); a
        nested one (an operation calling another) shares the outer one's lease."""
        if getattr(self._local, "lease", None) is not None:
            yield
            return
        lease: dict[int, SizedExecutor] = {}
        self._local.lease = lease
        try:
            yield
        finally:
            # no call into this package until the lease is dropped: an interrupt landing on
            # one must not leave a pool counted as in use for ever
            self._local.lease = None
            done = []
            with self._lock:
                for executor in lease.values():
                    users = self._users.pop(executor) - 1
                    if users:
                        self._users[executor] = users
                    elif executor in self._retired:
                        done.append(executor)
            # each stays retired until it is shut down: if this is cut short, shutdown() or
            # close() finds it there, unused, and finishes the job
            for executor in done:
                executor.shutdown(wait=True, cancel_futures=True)
                with self._lock:
                    if executor in self._retired:
                        self._retired.remove(executor)
            if done:
                logger.debug("%d retired worker pool(s) shut down", len(done))

    def get(self, size: int) -> SizedExecutor:
        """The pool of ``size`` threads: inside ``in_use()`` the one this operation took
        first (retired or not), else the current one, started on first use."""
        size = max(1, int(size))
        lease: dict[int, SizedExecutor] | None = getattr(self._local, "lease", None)
        with self._lock:
            if lease is not None and size in lease:
                return lease[size]
            executor = self._executors.get(size)
            if executor is None:
                logger.debug("starting a pool of %d worker threads", size)
                executor = SizedExecutor(size, thread_name_prefix=f"{THREAD_NAME_PREFIX}-{size}")
                self._executors[size] = executor
            if lease is not None:
                lease[size] = executor
                self._users[executor] = self._users.get(executor, 0) + 1
            return executor

    @property
    def active(self) -> bool:
        with self._lock:
            return bool(self._executors)

    @property
    def thread_count(self) -> int:
        with self._lock:
            return sum(executor.started for executor in self._executors.values())

    def shutdown(self, wait_for_workers: bool = True) -> None:
        """Shut the pools down now; one that running operations hold, when the last of them
        ends."""
        with self._lock:
            executors = []
            for executor in self._executors.values():
                if executor in self._users:
                    self._retired.append(executor)
                else:
                    executors.append(executor)
            self._executors.clear()
            # retired ones whose last operation was cut short before shutting them down
            executors += [e for e in self._retired if e not in self._users]
            self._retired = [e for e in self._retired if e in self._users]
        for executor in executors:
            executor.shutdown(wait=wait_for_workers, cancel_futures=True)
        if executors:
            logger.debug("worker pools shut down")


def _run_now(fn: Callable[..., R], args: tuple[Any, ...]) -> Future[R]:
    """``fn(*args)`` in this thread, as a done future (its exception re-raised by ``result``,
    in order). No frame of the exception's traceback, nor any caller of them (a frame keeps
    its caller), holds the future in a local name: that would make a cycle (exception,
    traceback, frame, future, exception) keeping the task's arguments, such as an
    extraction's open staging folder, until the garbage collector happens to run."""
    try:
        return _finished(fn(*args))
    except Exception as exc:
        return _finished(error=exc)


def _finished(result: Any = None, error: BaseException | None = None) -> Future[Any]:
    future: Future[Any] = Future()
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
    return future


class OrderedWindow(Generic[R]):
    """At most ``limit`` tasks queued or running; results come back in submission order. A
    finished result waits until those before it are done: with ``spare``, up to that many
    finished results more may wait behind an unfinished head while other tasks start.

    With ``executor=None`` each task runs at once in the caller's thread, so the sequential
    path runs the very same code and produces the very same output.
    """

    def __init__(self, executor: Executor | None, limit: int, spare: int = 0) -> None:
        self._executor = executor
        # inline tasks are done at once: holding their results back would only cost memory
        self._limit = max(1, int(limit)) if executor is not None else 1
        #: results that may wait, done, behind an unfinished head while other tasks start:
        #: one slow task at the head then stops no worker (the limit counts tasks queued
        #: or running), at the cost of holding up to ``spare`` results more
        self._spare = max(0, int(spare)) if executor is not None else 0
        self._pending: collections.deque[Future[R]] = collections.deque()
        self.peak_in_flight = 0

    def __enter__(self) -> OrderedWindow[R]:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.cancel()

    def submit(self, fn: Callable[..., R], *args: Any) -> list[R]:
        """Queue ``fn(*args)``; return the results that had to be collected to make room."""
        return self._add(fn, args, self._executor is None)

    def submit_batch(
        self,
        total_bytes: int,
        count: int,
        fn: Callable[..., R],
        *args: Any,
        deflated: bool = False,
    ) -> list[R]:
        """Queue ``fn(*args)``, the work on a batch of ``count`` files of ``total_bytes``
        (``deflated``: that the task compresses too); a batch of tiny files runs now in the
        caller's thread, keeping its place in the order (handing it to a worker would only
        contend for the GIL, see ``is_tiny_batch``)."""
        inline = self._executor is None or is_tiny_batch(total_bytes, count, deflated)
        return self._add(fn, args, inline)

    def adopt(self, future: Future[R]) -> list[R]:
        """Queue a task submitted elsewhere (its result comes back in its place in the
        order); return the results that had to be collected to make room."""
        checkpoint()
        ready = self._make_room()
        self._pending.append(future)
        self.peak_in_flight = max(self.peak_in_flight, len(self._pending))
        return ready

    def _add(self, fn: Callable[..., R], args: tuple[Any, ...], inline: bool) -> list[R]:
        checkpoint()
        ready = self._make_room()
        if inline:  # no local name for the future: see ``_run_now``
            self._pending.append(_run_now(fn, args))
        else:
            assert self._executor is not None
            self._pending.append(self._executor.submit(fn, *args))
        self.peak_in_flight = max(self.peak_in_flight, len(self._pending))
        return ready

    def _make_room(self) -> list[R]:
        """Wait until fewer than ``limit`` tasks are queued or running and fewer than
        ``limit + spare`` results are held; return the head results collected meanwhile."""
        ready: list[R] = []
        pending = self._pending
        while len(pending) >= self._limit:
            if not self._spare or pending[0].done():
                ready.append(pending.popleft().result())
                continue
            unfinished = [f for f in pending if not f.done()]
            if len(unfinished) < self._limit and len(pending) < self._limit + self._spare:
                break
            wait(
                unfinished if len(pending) < self._limit + self._spare else [pending[0]],
                return_when=FIRST_COMPLETED,
            )
        return ready

    def ready(self) -> list[R]:
        """Results at the head of the queue that are already done (never blocks)."""
        checkpoint()
        out: list[R] = []
        while self._pending and self._pending[0].done():
            out.append(self._pending.popleft().result())
        return out

    def drain(self) -> Iterator[R]:
        """Every remaining result, in order."""
        while self._pending:
            checkpoint()
            yield self._pending.popleft().result()

    def cancel(self) -> None:
        """Cancel what has not started and wait for what has."""
        pending = list(self._pending)
        self._pending.clear()
        for future in pending:
            future.cancel()
        running = [f for f in pending if not f.cancelled()]
        if running:
            wait(running)


def ordered_map(
    executor: Executor | None, fn: Callable[[T], R], items: Iterable[T], limit: int
) -> Iterator[R]:
    """Like ``map(fn, items)`` with at most ``limit`` calls in flight, results in order."""
    window: OrderedWindow[R] = OrderedWindow(executor, limit)
    try:
        for item in items:
            yield from window.submit(fn, item)
        yield from window.drain()
    finally:
        window.cancel()


_END = object()


def shared_map(
    executor: Executor | None,
    fn: Callable[[T], R],
    items: Iterable[T],
    helpers: int | None = None,
) -> Iterator[R]:
    """``fn(item)`` for every item, computed by the caller and by up to ``helpers`` workers of
    ``executor`` (by default all its workers but one: the caller is the other thread);
    results come in no set order, all handed out in the caller's thread.

    ``items`` may be a generator doing the caller's own work (planning what comes next): each
    item is handed to the workers as soon as it is produced, so they work while the caller
    plans, and once it has produced the last one the caller takes items too (a helper waits
    for the next item on its worker, so such a generator must not itself wait for tasks of
    ``executor``). The caller never
    waits for a worker to be scheduled (on a busy machine it may do it all, and with fewer than
    two items no worker is woken), and it takes no more helpers than the cores it may use
    have room for beside it. The first error stops everyone after their current item
    and is raised; leaving early (error, interrupt, the iterator closed) waits for the workers
    that started."""
    source = iter(items)
    first = list(itertools.islice(source, 2))
    # the caller and its helpers never outnumber the cores: per-item Python work only
    # contends for the GIL beyond them (4 threads on 2 cores were slower than 1)
    if helpers is None:
        helpers = max(1, worker_count(executor) - 1)
    helpers = min(helpers, usable_cpu_count() - 1)
    if executor is None or helpers < 1 or len(first) < 2:
        for item in itertools.chain(first, source):
            checkpoint()
            yield fn(item)
        return
    pending: queue.SimpleQueue[Any] = queue.SimpleQueue()
    results: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
    stop = threading.Event()

    def take(block: bool) -> Any:
        """The next item, ``_END`` when there is none left (or everyone must stop)."""
        if stop.is_set():
            return _END
        try:
            item = pending.get(block)
        except queue.Empty:
            return _END
        if item is _END:
            pending.put(_END)  # for the next one to see
        return item

    def help_out() -> None:
        while (item := take(block=True)) is not _END:
            try:
                results.put((True, fn(item)))
            except BaseException as exc:
                stop.set()
                results.put((False, exc))
                return

    def finished() -> Iterator[R]:
        while True:
            try:
                ok, value = results.get_nowait()
            except queue.Empty:
                return
            if not ok:
                raise value
            yield value

    for item in first:
        pending.put(item)
    futures = [executor.submit(help_out) for _ in range(helpers)]
    try:
        for item in source:  # the caller's own work, the workers writing meanwhile
            checkpoint()
            pending.put(item)
            yield from finished()
        pending.put(_END)
        while (item := take(block=False)) is not _END:
            checkpoint()
            yield fn(item)
            yield from finished()
    finally:
        # a helper still queued (its worker busy elsewhere) has nothing left to take; no
        # call into this package here, so nothing can cut the clean-up short
        stop.set()
        pending.put(_END)
        running = []
        for future in futures:
            if not future.cancel():
                running.append(future)
        wait(running)
    yield from finished()


def batched(
    items: Iterable[T],
    size: int,
    weight: Callable[[T], int] | None = None,
    max_weight: int | None = None,
) -> Iterator[list[T]]:
    """Lists of at most ``size`` items; with ``weight``, a list also ends once its items weigh
    ``max_weight`` or more (so a few large items still spread over the workers)."""
    batch: list[T] = []
    total = 0
    for item in items:
        batch.append(item)
        if weight is not None:
            total += weight(item)
        if len(batch) >= size or (max_weight is not None and total >= max_weight):
            yield batch
            batch, total = [], 0
    if batch:
        yield batch
