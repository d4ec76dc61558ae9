"""The reading layer: what extraction, verification and listing all read archives with.

Nothing here writes to the destination. ``archive_file`` opens the question (is there an
archive, how big is it); ``tar_stream`` walks a tar (any compression) as one forward stream
within ``tar_headers``' bounds; ``zip_layout`` checks a zip's central directory and data
ranges before a byte is inflated and ``zip_inflate`` decompresses one member bounded by its
declared size; ``damage`` turns any decoder's complaint into one ``CorruptArchiveError``
naming the member. ``extract`` (which writes a staged tree) and ``verify`` (which reads to
the end and keeps nothing) both sit on these modules.
"""

#: the size of one read, one decompressed piece and one written chunk (1 MiB)
CHUNK_SIZE = 1024 * 1024
#: a task of zip members (extracted or verified) stops growing at about this many
#: uncompressed bytes, so large members spread over the workers
ZIP_TASK_BYTES = 4 * 1024 * 1024
