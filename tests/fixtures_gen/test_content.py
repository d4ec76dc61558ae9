"""Content models hit their gzip -6 ratios; sizes and streaming behave."""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures_gen.content import (
    NOMINAL_GZIP_RATIO,
    SEGMENT_MAX,
    iter_content,
    parse_content,
)
from fixtures_gen.sizes import SizeSpec, _fit_total, plan_sizes, planned_total

SAMPLE = 2 * 1024 * 1024
# Stated tolerance: a 2 MiB file's gzip -6 ratio is within 10% of the model's nominal ratio.
TOLERANCE = 0.10


def _gzip_ratio(spec_text: str, size: int = SAMPLE, seed: int = 1) -> float:
    data = b"".join(iter_content(parse_content(spec_text), size, seed))
    assert len(data) == size
    return len(data) / len(zlib.compress(data, 6))


@pytest.mark.parametrize("model", ["text", "code", "log", "binary", "random", "sparse"])
def test_models_hit_their_nominal_ratio(model: str) -> None:
    assert _gzip_ratio(model) == pytest.approx(NOMINAL_GZIP_RATIO[model], rel=TOLERANCE)


def test_models_compress_like_their_real_counterparts() -> None:
    assert 2.7 <= _gzip_ratio("text") <= 4.2  # prose: gzip -6 about 3-4x
    assert _gzip_ratio("random") < 1.01  # already compressed
    assert _gzip_ratio("sparse") > 10
    assert _gzip_ratio("zeros") > 500


@pytest.mark.parametrize("target", [1.2, 2.0, 3.0, 5.0, 12.0])
def test_ratio_mixes_hit_their_target(target: float) -> None:
    spec = parse_content(f"ratio:{target}")
    assert spec.nominal_ratio == pytest.approx(target, rel=1e-6)
    assert _gzip_ratio(f"ratio:{target}") == pytest.approx(target, rel=TOLERANCE)


def test_mix_by_bytes_keeps_each_file_near_its_shares() -> None:
    spec = parse_content("mix:text=2,random=1")
    assert dict(spec.components) == pytest.approx({"text": 2 / 3, "random": 1 / 3})
    assert _gzip_ratio("mix:text=2,random=1") == pytest.approx(spec.nominal_ratio, rel=TOLERANCE)


def test_content_is_streamed_in_bounded_segments_and_deterministic() -> None:
    spec = parse_content("log")
    chunks = list(iter_content(spec, 3 * SEGMENT_MAX + 17, seed=5))
    assert max(len(chunk) for chunk in chunks) <= SEGMENT_MAX
    assert sum(len(chunk) for chunk in chunks) == 3 * SEGMENT_MAX + 17
    assert chunks == list(iter_content(spec, 3 * SEGMENT_MAX + 17, seed=5))
    assert chunks != list(iter_content(spec, 3 * SEGMENT_MAX + 17, seed=6))


def test_segments_differ_so_long_window_compressors_see_no_repeats() -> None:
    import lzma

    data = b"".join(iter_content(parse_content("random"), 3 * 1024 * 1024, seed=2))
    assert len(lzma.compress(data, preset=0)) > 0.99 * len(data)


def test_text_content_is_text() -> None:
    data = b"".join(iter_content(parse_content("code"), 5000, seed=3))
    assert data.isascii() and b"\n" in data


def test_unknown_content_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown content model"):
        parse_content("plasma")
    with pytest.raises(ValueError):
        parse_content("ratio:0.5")


@pytest.mark.parametrize(
    "spec",
    [
        SizeSpec("fixed", value=123),
        SizeSpec("uniform", min=10, max=2047),
        SizeSpec("lognormal", mean=40_000, sigma=1.2, min=1, max=10_000_000),
    ],
)
def test_planned_sizes_hit_their_exact_total_and_bounds(spec: SizeSpec) -> None:
    sizes = plan_sizes(spec, 500, random.Random(4))
    low, high = spec.bounds
    assert sum(sizes) == planned_total(spec, 500)
    assert all(low <= size <= high for size in sizes)


def test_lognormal_sizes_are_skewed_like_real_trees() -> None:
    sizes = sorted(
        plan_sizes(
            SizeSpec("lognormal", mean=50_000, sigma=1.0, min=1, max=10**8), 2000, random.Random(1)
        )
    )
    median = sizes[len(sizes) // 2]
    assert median < 50_000 < sizes[-1] / 4  # a long tail: mean above median, big outliers


@settings(max_examples=60, deadline=None)
@given(
    raw=st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=40),
    low=st.integers(0, 100),
    spread=st.integers(0, 10_000),
    data=st.data(),
)
def test_fit_total_is_exact_whenever_feasible(raw, low, spread, data) -> None:
    high = low + spread
    total = data.draw(st.integers(low * len(raw), high * len(raw)))
    sizes = _fit_total(raw, low, high, total)
    assert sum(sizes) == total
    assert all(low <= size <= high for size in sizes)
