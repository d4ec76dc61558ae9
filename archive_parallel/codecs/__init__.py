"""Compression codecs: parallel deflate/gzip, multi-stream bz2/xz, the zip writer, readers."""
