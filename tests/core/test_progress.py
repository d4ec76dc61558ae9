"""ProgressReporter: the one progress helper of creation, extraction and fixtures."""

import threading

from archive_parallel.progress import ProgressReporter


def test_a_position_with_a_total_known_later_is_clamped_and_never_goes_back():
    calls = []
    reporter = ProgressReporter(lambda current, total: calls.append((current, total)))
    reporter.update(3, 10)  # the total arrives with the first position
    reporter.update(2)  # behind: stays at 3
    reporter.update(50)  # past the total: clamped
    reporter.finish()
    assert calls == [(3, 10), (3, 10), (10, 10), (10, 10)]


def test_amounts_from_many_threads_add_up_to_the_total():
    calls = []
    lock = threading.Lock()

    def record(current, total):
        with lock:
            calls.append((current, total))

    reporter = ProgressReporter(record, 400)
    threads = [
        threading.Thread(target=lambda: [reporter.add(1) for _ in range(100)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reporter.finish()
    assert reporter.current == 400
    assert all(0 <= current <= total == 400 for current, total in calls)
    assert calls[-1] == (400, 400)


def test_no_callback_is_fine():
    reporter = ProgressReporter(None)
    reporter.update(5, 10)
    reporter.add(3)
    reporter.finish()
    assert reporter.current == reporter.total == 10
