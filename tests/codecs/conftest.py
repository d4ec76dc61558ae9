"""Shared fixtures of the codecs tests: executors of several sizes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # for codecs_testdata


@pytest.fixture(scope="session")
def pools() -> Iterator[dict[int, ThreadPoolExecutor]]:
    executors = {n: ThreadPoolExecutor(max_workers=n) for n in (1, 2, 4)}
    yield executors
    for executor in executors.values():
        executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(params=[None, 1, 2, 4], ids=lambda n: f"threads-{n}")
def executor(request: pytest.FixtureRequest, pools: dict[int, ThreadPoolExecutor]):
    return None if request.param is None else pools[request.param]
