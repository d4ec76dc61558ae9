"""Pool blocks: a few MiB of bytes per content model, built once per process from fixed seeds.

File contents are stitched from these pools (see ``content.py``), so per-byte Python work happens
only here, once. Pools depend on nothing but the model name and ``POOL_VERSION``: the same bytes
on every machine. Each builder produces data that compresses like its real counterpart: English
prose, Python-like source, service logs, packed binary records, sparse disk-image blocks and
incompressible bytes.
"""

from __future__ import annotations

import itertools
import struct
import threading

from .seeds import rng_for


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


POOL_VERSION = 1
POOL_SIZE = 4 * 1024 * 1024

_WORDS = _words(
    """
the of and to in is was that for it with as his on be at by had are but from or have an they
which one you were her all she there would their we him been has when who will more no if out so
said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through
back years where much your way well down should because each just those people how too little
state good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against go came
right used take three states himself few house use during without again place american around
however home small found thought went say part once general high upon school every don does got
united left number course war until always away something fact though water less public put think
almost hand enough far took head yet government system better set told nothing night end why
called didn eyes find going look asked later knew point next program city business give group toward
young days let room president side social given present several order national possible rather
second face per among form important often things looked early white case john become large big
need four within felt along children saw best church ever least power development light thing
seemed family interest want members mind country area others done turned although open problem
sense service certain kind began thus help means perhaps line field data report value result
process level support table model action account package archive file folder build release
"""
)

_IDENTIFIERS = _words(
    """
config path name value items result data buffer count index size total offset handle stream
manager archive entry record options logger cache queue worker task future lock event reader
writer parser token node parent child source target block chunk header footer checksum digest
"""
)

_VERBS = _words(
    """
get set load save build parse read write open close create update delete find check make run
apply merge split format compute resolve validate collect extract compress encode decode
"""
)

_LOG_MESSAGES = [
    "request completed",
    "cache miss for key",
    "connection established",
    "retrying after timeout",
    "user authenticated",
    "job queued",
    "job finished",
    "slow query detected",
    "configuration reloaded",
    "health check ok",
    "upload received",
    "session expired",
]

_lock = threading.Lock()
_pools: dict[str, bytes] = {}


def pool_for(model: str) -> bytes:
    """The pool block of ``model`` (built on first use, then shared by all threads)."""
    pool = _pools.get(model)
    if pool is None:
        with _lock:
            pool = _pools.get(model)
            if pool is None:
                pool = _BUILDERS[model]()
                if len(pool) < POOL_SIZE:
                    raise AssertionError(f"pool {model} too small")
                pool = pool[:POOL_SIZE]
                _pools[model] = pool
    return pool


def _zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, count + 1)))


def _build_text() -> bytes:
    rng = rng_for("pool", POOL_VERSION, "text")
    cumulative = _zipf_weights(len(_WORDS), 1.15)
    parts: list[str] = []
    size = 0
    while size < POOL_SIZE:
        paragraph: list[str] = []
        for _ in range(rng.randrange(3, 9)):
            words = rng.choices(_WORDS, cum_weights=cumulative, k=rng.randrange(5, 22))
            sentence = " ".join(words)
            paragraph.append(sentence[0].upper() + sentence[1:] + rng.choice(".....?!"))
        text = _wrap(" ".join(paragraph), 78) + "\n\n"
        parts.append(text)
        size += len(text)
    return "".join(parts).encode("ascii")


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    current = 0
    start = 0
    for position, char in enumerate(text):
        if char == " ":
            if position - start > width:
                lines.append(text[start:current])
                start = current + 1
            current = position
    lines.append(text[start:])
    return "\n".join(lines)


def _build_code() -> bytes:
    rng = rng_for("pool", POOL_VERSION, "code")
    out: list[str] = []
    size = 0
    while size < POOL_SIZE:
        chunk = _code_block(rng)
        out.append(chunk)
        size += len(chunk)
    return "".join(out).encode("ascii")


def _code_block(rng) -> str:
    ident = lambda: rng.choice(_IDENTIFIERS)  # noqa: E731
    verb = lambda: rng.choice(_VERBS)  # noqa: E731
    word = lambda: rng.choice(_WORDS[:200])  # noqa: E731
    cls = f"{ident().capitalize()}{rng.choice(_IDENTIFIERS).capitalize()}"
    lines = [f"class {cls}:", f'    """{word().capitalize()} {word()} {word()} {word()}."""', ""]
    lines.append(f"    def __init__(self, {ident()}, {ident()}=None):")
    for _ in range(rng.randrange(2, 5)):
        name = ident()
        lines.append(f"        self._{name} = {name}")
    lines.append("")
    for _ in range(rng.randrange(2, 6)):
        func = f"{verb()}_{ident()}"
        arg_a, arg_b = ident(), ident()
        lines.append(f"    def {func}(self, {arg_a}, {arg_b}={rng.randrange(0, 100)}):")
        lines.append(f'        """{word().capitalize()} the {ident()} {word()} {word()}."""')
        for _ in range(rng.randrange(2, 8)):
            kind = rng.randrange(6)
            target = ident()
            if kind == 0:
                lines.append(f"        if {arg_a} is None:")
                lines.append(f"            return self._{target}")
            elif kind == 1:
                lines.append(f"        for {target} in self.{verb()}_{ident()}({arg_b}):")
                lines.append(f"            {arg_a}.append({target})")
            elif kind == 2:
                value = rng.randrange(0, 4096)
                lines.append(f"        {target} = self._{ident()}.get({arg_a!r}, {value})")
            elif kind == 3:
                lines.append(f'        logger.debug("{word()} {word()} %s", {target})')
            elif kind == 4:
                lines.append(f"        {target} = {verb()}_{ident()}({arg_a}, {arg_b})")
            else:
                lines.append(f"        # {word()} {word()} {word()} {word()} {word()}")
        lines.append(f"        return {arg_a}")
        lines.append("")
    lines.append("")
    return "\n".join(lines) + "\n"


def _build_log() -> bytes:
    rng = rng_for("pool", POOL_VERSION, "log")
    out: list[str] = []
    size = 0
    second = 0
    levels = ["INFO"] * 12 + ["DEBUG"] * 6 + ["WARNING"] * 2 + ["ERROR"]
    while size < POOL_SIZE:
        second += rng.randrange(0, 3)
        hours, rest = divmod(second, 3600)
        minutes, seconds = divmod(rest, 60)
        line = (
            f"2024-03-{1 + hours // 24 % 28:02d}T{hours % 24:02d}:{minutes:02d}:{seconds:02d}."
            f"{rng.randrange(1000):03d}Z {rng.choice(levels):<7} [worker-{rng.randrange(8)}] "
            f"{rng.choice(_LOG_MESSAGES)} id={rng.getrandbits(32):08x} "
            f"path=/api/{rng.choice(_IDENTIFIERS)}/{rng.randrange(100)} "
            f"status={rng.choice((200, 200, 200, 201, 204, 304, 404, 500))} "
            f"took={rng.randrange(1, 900)}ms\n"
        )
        out.append(line)
        size += len(line)
    return "".join(out).encode("ascii")


_RECORD = struct.Struct("<4sIHhff8sI")


def _build_binary() -> bytes:
    rng = rng_for("pool", POOL_VERSION, "binary")
    out = bytearray()
    counter = 0
    tags = [f"{ident[:4]:<4}".encode() for ident in _IDENTIFIERS]
    level = 0.0
    while len(out) < POOL_SIZE:
        counter += 1
        level += rng.uniform(-1.0, 1.0)
        out += _RECORD.pack(
            rng.choice(tags),
            counter,
            rng.randrange(16),
            rng.randrange(-300, 300),
            round(level, 2),
            rng.random(),
            bytes(8),
            rng.getrandbits(16),
        )
        if counter % 64 == 0:
            out += b"SECT" + struct.pack("<I", counter) + bytes(24)
    return bytes(out)


def _build_random() -> bytes:
    return rng_for("pool", POOL_VERSION, "random").randbytes(POOL_SIZE)


_SPARSE_BLOCK = 4096
_SPARSE_DENSITY = 32  # one block in this many carries data


def _build_sparse() -> bytes:
    rng = rng_for("pool", POOL_VERSION, "sparse")
    out = bytearray(POOL_SIZE)
    for start in range(0, POOL_SIZE, _SPARSE_BLOCK):
        if rng.randrange(_SPARSE_DENSITY) == 0:
            out[start : start + _SPARSE_BLOCK] = rng.randbytes(_SPARSE_BLOCK)
    return bytes(out)


def _build_zeros() -> bytes:
    return bytes(POOL_SIZE)


_BUILDERS = {
    "text": _build_text,
    "code": _build_code,
    "log": _build_log,
    "binary": _build_binary,
    "random": _build_random,
    "sparse": _build_sparse,
    "zeros": _build_zeros,
}

MODELS: tuple[str, ...] = tuple(_BUILDERS)
