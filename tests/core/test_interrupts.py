"""``archive_parallel.interrupts``: signals recorded during an operation, raised at checkpoints."""

from __future__ import annotations

import signal
import sys
import threading

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel import interrupts as interrupts_module
from archive_parallel.interrupts import checkpoint, deferred_interrupts


class Stop(KeyboardInterrupt):
    pass


def test_sigint_waits_for_a_checkpoint():
    reached = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        signal.raise_signal(signal.SIGINT)
        reached.append("after the signal")  # the handler only recorded it
        checkpoint()
        reached.append("after the checkpoint")
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_pending_signal_is_raised_when_the_block_ends():
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_checkpoint_without_a_signal_does_nothing():
    with deferred_interrupts():
        checkpoint()
    checkpoint()


def test_a_second_signal_is_raised_at_once():
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        signal.raise_signal(signal.SIGINT)
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            checkpoint()  # nothing is left pending: the second raise took it
            raise
        pytest.fail("the second signal did not raise")


def test_extra_signals_raise_their_own_exception_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stop), deferred_interrupts({signal.SIGTERM: Stop}):
        signal.raise_signal(signal.SIGTERM)
        checkpoint()
    assert signal.getsignal(signal.SIGTERM) is before


def test_nested_blocks_defer_until_the_outer_one_ends():
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        with deferred_interrupts():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        checkpoint()


def test_a_program_handler_is_left_alone():
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with deferred_interrupts():
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
            signal.raise_signal(signal.SIGINT)
            checkpoint()
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_checkpoint_in_a_worker_thread_never_raises():
    errors = []

    def worker() -> None:
        try:
            checkpoint()
        except BaseException as exc:  # noqa: BLE001 - the test records anything
            errors.append(exc)

    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        signal.raise_signal(signal.SIGINT)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert errors == []
        checkpoint()


def test_outside_the_main_thread_nothing_is_installed():
    seen = []

    def worker() -> None:
        with deferred_interrupts():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]


def test_manager_operations_run_deferred(tmp_path):
    """A signal during an operation stops it with KeyboardInterrupt and nothing written."""
    source = tmp_path / "src"
    source.mkdir()
    for i in range(50):
        (source / f"f{i}.txt").write_bytes(b"x" * (i * 100))
    archive = tmp_path / "out" / "pkg.tar.gz"
    calls = []

    def progress(current: int, total: int) -> None:
        calls.append(current)
        if len(calls) == 3:
            # the handler running now is the library's: it records, and the run stops later
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
            signal.raise_signal(signal.SIGINT)

    config = ArchiveConfig(
        progress_callback=progress,
        parallel_threshold=2,
        parallel_min_archive_bytes=0,
        parallel_batch_size=4,
    )
    with ArchiveManager() as manager, pytest.raises(KeyboardInterrupt):
        manager.create_archive(source, archive, config)
    assert not (tmp_path / "out").exists()  # the folder the call made is gone with the rest
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_ctrl_c_before_zip_registration_stops_before_any_file_is_written(
    tmp_path, monkeypatch, parallel
):
    """Zip extraction registers every name before writing: a signal that arrives as it
    starts (the first progress report) stops it there, with no member written."""
    from archive_parallel.extract import zip_extract

    source = tmp_path / "src"
    for i in range(40):
        (source / f"d{i % 4}").mkdir(parents=True, exist_ok=True)
        (source / f"d{i % 4}" / f"f{i}.txt").write_bytes(b"y" * (i * 50))
    archive = tmp_path / "pkg.zip"
    with ArchiveManager() as manager:
        manager.create_archive(source, archive)
    written = []
    real_write = zip_extract.write_zip_batch
    monkeypatch.setattr(
        zip_extract,
        "write_zip_batch",
        lambda *args, **kwargs: written.append(1) or real_write(*args, **kwargs),
    )

    def progress(current: int, total: int) -> None:
        if current < total:
            signal.raise_signal(signal.SIGINT)

    config = ArchiveConfig(
        progress_callback=progress,
        enable_parallel_processing=parallel,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        parallel_batch_size=4,
    )
    dest = tmp_path / "out"
    with ArchiveManager() as manager, pytest.raises(KeyboardInterrupt):
        manager.extract_archive(archive, dest, config)
    assert written == []
    assert not dest.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_close_finishes_shutting_down_before_a_signal_is_raised():
    """Ctrl-C the instant ``close()`` takes the lock of a queued future it cancels: the
    signal is raised once every worker has stopped, and no worker is left blocked on it."""
    manager = ArchiveManager()
    executor = manager._pool.get(2)
    release = threading.Event()
    running = [executor.submit(release.wait) for _ in range(2)]
    queued = [executor.submit(int) for _ in range(4)]
    threading.Timer(0.2, release.set).start()

    def hook(frame, event, arg):
        if event == "c_return" and getattr(arg, "__name__", "") == "__enter__":
            sys.setprofile(None)
            signal.raise_signal(signal.SIGINT)

    sys.setprofile(hook)
    try:
        with pytest.raises(KeyboardInterrupt):
            manager.close()
    finally:
        sys.setprofile(None)
    assert all(f.done() for f in running) and all(f.cancelled() for f in queued)
    workers = [t for t in threading.enumerate() if t.name.startswith("archive-parallel")]
    for thread in workers:
        thread.join(timeout=10)
    assert not [t for t in workers if t.is_alive()]


def _interrupt_at_call(at: int):
    """A trace function raising KeyboardInterrupt at the ``at``-th call (or generator resume)
    of code in ``archive_parallel.interrupts``; returns it with its call counter."""
    calls = [0]

    def trace(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == interrupts_module.__file__:
            calls[0] += 1
            if calls[0] == at:
                raise KeyboardInterrupt
        return None

    return trace, calls


@pytest.mark.parametrize("nested", [False, True])
def test_an_interrupt_anywhere_in_the_deferral_itself_leaves_nothing_installed(nested):
    """Ctrl-C at each call the deferral makes (setting up, a checkpoint, tearing down) must
    leave the default handler back and no deferral counted, so the next one works."""
    at = 1
    while True:
        trace, calls = _interrupt_at_call(at)
        sys.settrace(trace)
        try:
            with deferred_interrupts():
                if nested:
                    with deferred_interrupts():
                        checkpoint()
                checkpoint()
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, at
        reached = []
        with pytest.raises(KeyboardInterrupt), deferred_interrupts():
            signal.raise_signal(signal.SIGINT)
            reached.append(at)
        assert reached == [at]
        if calls[0] < at:  # this run made fewer calls: every point was tried
            break
        at += 1
    assert at > 3


def test_sigterm_as_interrupt_raises_terminated_and_restores_the_handler():
    from archive_parallel.interrupts import Terminated, sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_as_interrupt():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_routed_to_ctrl_c_is_deferred_like_it():
    from archive_parallel.interrupts import Terminated, sigterm_as_interrupt

    reached = []
    with pytest.raises(Terminated), sigterm_as_interrupt(), deferred_interrupts():
        signal.raise_signal(signal.SIGTERM)
        reached.append("after the signal")
        checkpoint()
    assert reached == ["after the signal"]


def test_held_interrupts_finish_the_step_and_raise_after_it():
    from archive_parallel.interrupts import held_interrupts

    steps = []
    with pytest.raises(KeyboardInterrupt), held_interrupts():
        steps.append("first rename")
        signal.raise_signal(signal.SIGINT)
        checkpoint()  # held: an atomic write's checkpoint inside the step raises nothing
        steps.append("second rename")
    assert steps == ["first rename", "second rename"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    checkpoint()  # nothing is left pending


def test_held_interrupts_inside_a_deferral_leave_the_interrupt_to_its_checkpoint():
    from archive_parallel.interrupts import held_interrupts

    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        with held_interrupts():
            signal.raise_signal(signal.SIGINT)
            checkpoint()
        checkpoint()
        pytest.fail("the outer checkpoint did not raise")
