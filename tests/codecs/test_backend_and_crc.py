import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_parallel.codecs import backend
from archive_parallel.codecs.crc32 import crc32_combine
from archive_parallel.errors import ArchiveError


def test_zlib_backend_is_stdlib():
    assert backend.deflate_module("zlib") is zlib
    assert "zlib" in backend.available_backends()


def test_auto_prefers_zlib_ng_when_installed():
    module = backend.deflate_module("auto")
    if "zlib-ng" in backend.available_backends():
        assert module is backend.deflate_module("zlib-ng")
    else:
        assert module is zlib


def test_missing_zlib_ng_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backend, "_import_zlib_ng", lambda: None)
    with pytest.raises(ArchiveError, match="pip install zlib-ng"):
        backend.deflate_module("zlib-ng")
    assert backend.deflate_module("auto") is zlib
    assert "zlib-ng" not in backend.available_backends()


def test_unknown_backend():
    with pytest.raises(ValueError):
        backend.deflate_module("brotli")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc32_combine_matches_crc_of_concatenation(a, b):
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32_combine_large_lengths():
    a, b = b"x" * 100_000, bytes(range(256)) * 8192
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
