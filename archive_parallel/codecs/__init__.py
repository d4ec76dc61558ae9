"""Compression codecs: parallel deflate/gzip, multi-stream bz2/xz, the zip writer, readers.

Every writer here cuts its input into blocks by position and compresses them in worker
threads through ``pool.OrderedWindow`` (zlib, bz2 and lzma release the GIL), writing results
in order, so output bytes never depend on the thread count and memory stays bounded by the
window. ``readers.open_decompressed`` is the reading side for tar streams.
"""

from .backend import available_backends, deflate_module
from .deflate_blocks import ParallelDeflater
from .gzip_writer import ParallelGzipWriter
from .multistream import ParallelStreamWriter, stream_piece_size
from .readers import open_decompressed
from .zip_extra import read_unix_mtime
from .zip_writer import ZipResult, write_zip

__all__ = [
    "ParallelDeflater",
    "ParallelGzipWriter",
    "ParallelStreamWriter",
    "ZipResult",
    "available_backends",
    "deflate_module",
    "open_decompressed",
    "read_unix_mtime",
    "stream_piece_size",
    "write_zip",
]
