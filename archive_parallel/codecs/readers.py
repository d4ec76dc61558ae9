"""Opening an archive's decompressed byte stream for reading.

``open_decompressed(path, fmt, executor)`` returns a readable binary file object over the
uncompressed tar stream. (Placeholder: sequential gzip/bz2/lzma readers; the codecs work
replaces it with parallel decompression of our own multi-stream bz2/xz output.)
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from concurrent.futures import Executor
from typing import BinaryIO

from ..formats import CompressionFormat


def open_decompressed(
    path: str | os.PathLike[str], fmt: CompressionFormat, executor: Executor | None = None
) -> BinaryIO:
    if fmt is CompressionFormat.TAR_GZ:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if fmt is CompressionFormat.TAR_BZ2:
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if fmt is CompressionFormat.TAR_XZ:
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if fmt is CompressionFormat.TAR:
        return open(path, "rb")
    raise ValueError(f"{fmt} is not a tar format")
