"""Content models: a file's bytes are segments cut from a model's pool and lightly disguised.

A content spec names one model (``"text"``), a mix by bytes (``"mix:text=2,random=1"``) or a
target gzip -6 ratio (``"ratio:2.5"``, mixing the two models that bracket it). A file of N bytes
is a run of segments (64-512 KiB, never more in memory) each cut at a seeded offset from a pool
and passed through a seeded byte permutation: a permutation keeps every statistic gzip, bzip2
and xz see *within* a segment (so the ratio stays the pool's), while making segments differ from
one another, so long-window compressors do not find the pool repeated across a large tree.
Text models permute vowels among vowels and consonants among consonants (it stays text);
binary models permute the bytes 1-255 and keep zero runs zero.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .pools import MODELS, POOL_SIZE, pool_for

SEGMENT_MIN = 64 * 1024
SEGMENT_MAX = 512 * 1024

# gzip -6 ratios of each pool (measured once and frozen: generation must never depend on a
# measurement, or the bytes could change with the zlib version). Used for "ratio:" mixes and
# by ``describe``/``list`` to estimate compressibility.
NOMINAL_GZIP_RATIO: dict[str, float] = {
    "random": 1.0,
    "binary": 1.94,
    "text": 3.08,
    "code": 4.71,
    "log": 5.33,
    "sparse": 23.7,
    "zeros": 1000.0,
}

_TEXT_MODELS = frozenset({"text", "code", "log"})
_RATIO_LADDER = ("random", "text", "sparse", "zeros")


@dataclass(frozen=True)
class ContentSpec:
    """What a file is made of: ``components`` are (model, share of bytes) summing to 1."""

    text: str
    components: tuple[tuple[str, float], ...]

    @property
    def nominal_ratio(self) -> float:
        """Expected gzip -6 ratio: total bytes over the sum of each share's compressed bytes."""
        compressed = sum(share / NOMINAL_GZIP_RATIO[model] for model, share in self.components)
        return 1.0 / compressed


@functools.lru_cache(maxsize=256)
def parse_content(text: str) -> ContentSpec:
    """Parse ``"text"``, ``"mix:text=2,random=1"`` or ``"ratio:2.5"`` into a ContentSpec."""
    text = text.strip()
    if text.startswith("mix:"):
        weights: list[tuple[str, float]] = []
        for item in text[4:].split(","):
            model, _, weight = item.partition("=")
            share = float(weight or 1)
            if not 0 <= share < math.inf:
                raise ValueError(f"content mix {text!r}: a weight must be a finite number >= 0")
            weights.append((_check_model(model.strip()), share))
        total = sum(weight for _, weight in weights)
        if total <= 0:
            raise ValueError(f"content mix {text!r} has no positive weight")
        shares = tuple((model, weight / total) for model, weight in weights if weight > 0)
        return ContentSpec(text, shares)
    if text.startswith("ratio:"):
        return ContentSpec(text, _mix_for_ratio(float(text[6:])))
    return ContentSpec(text, ((_check_model(text), 1.0),))


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"unknown content model {model!r}; known: {', '.join(MODELS)}")
    return model


def _mix_for_ratio(target: float) -> tuple[tuple[str, float], ...]:
    """Shares of the two ladder models whose nominal ratios bracket ``target``."""
    if not target >= 1.0:  # nan too
        raise ValueError("a target compression ratio is at least 1.0")
    for low, high in zip(_RATIO_LADDER, _RATIO_LADDER[1:]):
        low_ratio, high_ratio = NOMINAL_GZIP_RATIO[low], NOMINAL_GZIP_RATIO[high]
        if target <= high_ratio:
            # share_low / low_ratio + (1 - share_low) / high_ratio == 1 / target
            share_low = (1 / target - 1 / high_ratio) / (1 / low_ratio - 1 / high_ratio)
            share_low = min(1.0, max(0.0, share_low))
            return tuple(
                (model, share)
                for model, share in ((low, share_low), (high, 1.0 - share_low))
                if share > 0
            )
    return (("zeros", 1.0),)


def iter_content(spec: ContentSpec, size: int, seed: int) -> Iterator[bytes]:
    """Yield the bytes of one file: ``size`` bytes in segments of at most SEGMENT_MAX.

    Each model gets exactly its share of the file (largest-remainder rounding), interleaved by
    always extending the model that is proportionally furthest behind.
    """
    rng = random.Random(seed)
    targets = _split_exactly(size, spec.components)
    remaining = dict(targets)
    first = True
    while True:
        model = _most_behind(targets, remaining)
        if model is None:
            return
        length = min(remaining[model], rng.randrange(SEGMENT_MIN, SEGMENT_MAX + 1))
        yield _segment(model, length, rng, align_to_line=first)
        remaining[model] -= length
        first = False


def _split_exactly(size: int, components: tuple[tuple[str, float], ...]) -> dict[str, int]:
    floors = {model: int(size * share) for model, share in components}
    leftover = size - sum(floors.values())
    by_remainder = sorted(
        range(len(components)),
        key=lambda index: (-(size * components[index][1] - floors[components[index][0]]), index),
    )
    for index in by_remainder[:leftover]:
        floors[components[index][0]] += 1
    return floors


def _most_behind(targets: dict[str, int], remaining: dict[str, int]) -> str | None:
    """The unfinished model with the smallest fraction done (ties: the first listed)."""
    best_model, best_done = None, 2.0
    for model, target in targets.items():
        if remaining[model] > 0:
            done = (target - remaining[model]) / target
            if done < best_done:
                best_model, best_done = model, done
    return best_model


_ZERO_SEGMENT = bytes(SEGMENT_MAX)
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghjklmnpqrstvwxyz"


def _segment(model: str, length: int, rng: random.Random, align_to_line: bool) -> bytes:
    if model == "zeros":
        return _ZERO_SEGMENT[:length]
    pool = pool_for(model)
    offset = rng.randrange(POOL_SIZE - length + 1)
    if align_to_line and model in _TEXT_MODELS:
        newline = pool.find(b"\n", offset, offset + 4096)
        if newline >= 0 and newline + 1 + length <= POOL_SIZE:
            offset = newline + 1
    return pool[offset : offset + length].translate(_table(model, rng))


def _table(model: str, rng: random.Random) -> bytes:
    if model in _TEXT_MODELS:
        vowels, consonants = list(_VOWELS), list(_CONSONANTS)
        rng.shuffle(vowels)
        rng.shuffle(consonants)
        source = _VOWELS + _CONSONANTS
        target = "".join(vowels) + "".join(consonants)
        return bytes.maketrans(
            (source + source.upper()).encode(), (target + target.upper()).encode()
        )
    nonzero = list(range(1, 256))
    rng.shuffle(nonzero)
    return bytes([0, *nonzero])
