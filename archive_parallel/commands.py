"""The ``archive-parallel`` commands: arguments, running them, their output and exit codes.

``cli.main`` is the entry point; it imports this module once Ctrl-C is handled (see ``cli``).
Errors are one line on stderr (``verify`` adds why a damaged archive failed); ``-v`` adds debug
logs naming the thread, and tracebacks. Every name and path in human output is escaped
(``display``): a member name cannot move the cursor, clear the screen or forge a line. The
one exception is ``checksum`` writing to a file or a pipe: its lines are then exactly
``sha256sum``'s, for ``sha256sum -c`` to read (``sum_lines``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .cli import wants_json
from .cli_create import left_out, refusal_hint, refused_entries
from .cli_output import CommandOutput
from .cli_support import EXIT_FAILED, EXIT_USAGE, OneLineParser, positive_int
from .config import COMPRESSION_BACKENDS, ArchiveConfig, load_tuned_defaults
from .descriptors import open_fd
from .display import escape, one_line, quoted
from .errors import (
    ArchiveError,
    CorruptArchiveError,
    UnsafeArchiveError,
    UnsupportedArchiveError,
)
from .formats import KNOWN_EXTENSIONS, CompressionFormat, format_from_name
from .interrupts import Terminated, checkpoint, deferred_interrupts
from .read.archive_file import not_a_file
from .sum_lines import sum_lines
from .terminal_progress import progress_for

logger = logging.getLogger(__name__)


class UsageError(Exception):
    pass


class _ArgumentsRefused(Exception):
    """argparse refused the arguments; ``run`` reports it as any usage error."""


class _Parser(OneLineParser):
    """The project's one-line parser (its subcommands' parsers are of this class too), whose
    error raises ``_ArgumentsRefused`` instead of printing and exiting: ``run`` reports it as
    any other usage error, in one ``archive-parallel: error:`` line whatever the
    subcommand, and as a JSON error with ``--json``."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentsRefused(message)


def _effective_defaults_help(tuned: dict[str, Any]) -> tuple[str, str]:
    """--threads and --batch-size help with the defaults in effect: the tuned profile's
    values where one is installed, else the built-in ones."""
    effective = ArchiveConfig(**tuned)
    source = "tuned profile" if tuned else "built-in"

    def text(what: str, field: str) -> str:
        origin = source if field in tuned else "built-in"
        return f"{what} (default {getattr(effective, field)}, {origin})"

    return text("worker threads", "thread_pool_size"), text(
        "files per parallel task", "parallel_batch_size"
    )


def _non_empty(text: str) -> str:
    """argparse type of a path argument: an empty one (``"$DEST"`` with ``DEST`` unset) is a
    usage error naming the argument, never the current folder, as ``Path("")`` would take it."""
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    return text


def _path(text: str) -> Path:
    """argparse type of a path argument (``_non_empty``) as a ``Path``."""
    return Path(_non_empty(text))


def _build_parser(tuned: dict[str, Any]) -> argparse.ArgumentParser:
    threads_help, batch_help = _effective_defaults_help(tuned)
    common = _Parser(add_help=False)
    # checked here, by the parser, so that every command refuses a value out of range alike
    common.add_argument("--threads", type=positive_int, metavar="N", help=threads_help)
    common.add_argument("--batch-size", type=positive_int, metavar="N", help=batch_help)
    common.add_argument("--sequential", action="store_true", help="no worker threads (same output)")
    common.add_argument(
        "--json",
        action="store_true",
        help="one JSON object on stdout, on failure too; no progress bar",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs with thread names")
    common.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    parser = _Parser(
        prog="archive-parallel",
        description="Create, extract, verify and list tar.gz/tar.bz2/tar.xz/tar.zst/tar/zip "
        "archives in parallel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = sub.add_parser("create", parents=[common], help="archive a folder")
    create.add_argument("source", type=_path, help="folder to archive")
    create.add_argument("output", type=_path, help="archive to write; format from its name")
    create.add_argument(
        "--level",
        type=int,
        choices=range(20),
        metavar="LEVEL",
        help="compression level: 0-9 (default 6; for zip 0 stores); for tar.zst zstd's own "
        "1-19 (default 3)",
    )
    create.add_argument(
        "--exclude",
        action="append",
        default=None,
        metavar="PATTERN",
        help="exclusion pattern, repeatable; replaces the defaults .DS_Store and Thumbs.db",
    )
    create.add_argument(
        "--backend",
        choices=COMPRESSION_BACKENDS,
        help="deflate implementation for tar.gz and zip (default zlib); zlib-ng and isal need "
        "their packages, auto takes zlib-ng when installed",
    )
    create.add_argument(
        "--reproducible",
        action="store_true",
        help="same tree, same bytes: sorted members, fixed mtimes, owner 0",
    )
    create.add_argument("--no-meta", action="store_true", help="do not write the .meta side file")
    create.add_argument(
        "--skip-unreadable",
        action="store_true",
        help="leave out source files and folders that cannot be read, each with a warning "
        "(default: fail, naming them, writing nothing)",
    )
    create.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="archive what symlinks point at instead of the links, as tar -h does",
    )
    create.add_argument(
        "--skip-unarchivable",
        action="store_true",
        help="leave out names that would not extract the same (not UTF-8, control characters, "
        "a backslash) and symlinks leading outside the tree, each with a warning (default: "
        "fail, naming them, writing nothing)",
    )

    extract = sub.add_parser("extract", parents=[common], help="extract an archive safely")
    extract.add_argument("archive", type=_path, help="archive to extract (format from its bytes)")
    extract.add_argument("dest", type=_path, help="destination folder (created when missing)")
    extract.add_argument(
        "--no-verify", action="store_true", help="skip the archive and per-file checksum checks"
    )

    verify = sub.add_parser("verify", parents=[common], help="read every member and check it")
    verify.add_argument("archive", type=_path, help="archive to check")

    listing = sub.add_parser("list", parents=[common], help="list members without extracting")
    listing.add_argument("archive", type=_path, help="archive to list")

    checksum = sub.add_parser("checksum", parents=[common], help="SHA-256 and MD5 of files")
    checksum.add_argument("paths", nargs="+", type=_non_empty, metavar="PATH", help="files to hash")
    checksum.add_argument(
        "--md5",
        action="store_true",
        help="print MD5 sums as md5sum does (default: SHA-256 as sha256sum does; "
        "--json gives both)",
    )
    return parser


def _config(args: argparse.Namespace, tuned: dict[str, Any], progress: Any = None) -> ArchiveConfig:
    """The command's settings: the tuned defaults, then the options given."""
    values: dict[str, Any] = dict(tuned)
    if args.threads is not None:
        values["thread_pool_size"] = args.threads
    if args.batch_size is not None:
        values["parallel_batch_size"] = args.batch_size
    if args.sequential:
        values["enable_parallel_processing"] = False
    if getattr(args, "level", None) is not None:
        values.update(_level_setting(args.level, getattr(args, "output", None)))
    if getattr(args, "exclude", None) is not None:
        values["exclude_patterns"] = list(args.exclude)
    if getattr(args, "backend", None):
        values["compression_backend"] = args.backend
    if getattr(args, "reproducible", False):
        values["reproducible"] = True
        # the block size shapes a tar.gz's (and a large zip member's) deflate stream: a tuned
        # profile's would make the same tree give other bytes on another machine
        values.pop("block_size", None)
    if getattr(args, "no_meta", False):
        values["include_metadata"] = False
    if args.command == "create":  # unlike the library, fail on what cannot be read
        values["unreadable_entries"] = "skip" if args.skip_unreadable else "error"
        values["unarchivable_names"] = "skip" if args.skip_unarchivable else "error"
        values["follow_symlinks"] = args.follow_symlinks
    if progress is not None:
        values["progress_callback"] = progress
    return ArchiveConfig(**values)


def _level_setting(level: int, output: Path | None) -> dict[str, int]:
    """``--level``: zstd's own 1-19 for a tar.zst, else the 0-9 scale."""
    fmt = CompressionFormat.from_extension(output) if output is not None else None
    if fmt is CompressionFormat.TAR_ZST:
        if level < 1:
            raise UsageError("--level for tar.zst must be 1-19")
        return {"zstd_level": level}
    if level > 9:
        raise UsageError("--level must be 0-9 (1-19 only for tar.zst)")
    return {"compression_level": level}


def _require(path: Path, what: str) -> None:
    try:
        exists = path.exists()
    except OSError:  # it may exist, behind a folder we may not search: the operation says
        return
    if not exists:
        raise UsageError(f"{what} does not exist: {path}")


def _require_known_format(output: Path) -> None:
    """A usage error unless ``output``'s name gives its format (the library would write an
    unknown one, a typo such as ``.tar.bz`` included, as tar.gz, as the old class did)."""
    if format_from_name(output) is None:
        raise UsageError(
            f"cannot tell the archive format from the name {quoted(output.name or str(output))}; "
            f"end it in {', '.join(KNOWN_EXTENSIONS)}"
        )


#: what ``verify``, ``list`` and ``checksum`` leave, for an interrupt once they are done
_NOTHING_WRITTEN = "nothing was written"


def _run(args: argparse.Namespace, out: CommandOutput, tuned: dict[str, Any]) -> int:
    from .manager import ArchiveManager

    checkpoint()  # an interrupt during start-up stops the run before any work
    show_progress = not args.no_progress and not args.json
    with ArchiveManager(ArchiveConfig(**tuned)) as manager:
        if args.command == "create":
            _require(args.source, "source folder")
            _require_known_format(args.output)
            with progress_for(show_progress, "create", unit="B") as bar:
                meta = manager.create_archive(args.source, args.output, _config(args, tuned, bar))
            return out.finished(
                {
                    "archive": str(args.output),
                    **meta.to_dict(),
                    "skipped": [{"name": n, "reason": r} for n, r in meta.skipped],
                    "stats": manager.get_stats(),
                },
                f"{escape(str(args.output))}: {meta.file_count} files, "
                f"{meta.uncompressed_size} -> "
                f"{meta.compressed_size} bytes, sha256 {meta.checksum_sha256 or '-'}"
                f"{left_out(meta.skipped)}",
                f"{args.output} was written",
            )
        if args.command == "extract":
            _require(args.archive, "archive")
            with progress_for(show_progress, "extract") as bar:
                meta = manager.extract_archive(
                    args.archive,
                    args.dest,
                    _config(args, tuned, bar),
                    verify_integrity=not args.no_verify,
                )
            return out.finished(
                {
                    "archive": str(args.archive),
                    "dest": str(args.dest),
                    **meta.to_dict(),
                    "extracted_files": meta.extracted_files,
                    "extracted_bytes": meta.extracted_bytes,
                    "stats": manager.get_stats(),
                },
                f"{escape(str(args.archive))} -> {escape(str(args.dest))}: "
                f"{meta.extracted_files} files",
                f"{args.archive} was extracted into {args.dest}",
            )
        if args.command == "verify":
            _require(args.archive, "archive")
            manager.default_config = _config(args, tuned)
            # what extract would refuse fails too: "verify OK" means "extract accepts it"
            report = manager.verify_archive_details(args.archive, check_safety=True)
            data = {
                "archive": str(args.archive),
                "ok": report.ok,
                "reason": report.reason,
                "folding_conflict": report.folding_conflict,
            }
            if report.ok:
                if report.folding_conflict:  # sound here; a Mac's extraction refuses it
                    logger.warning(
                        "%s: on a file system that ignores case or Unicode normalisation "
                        "(macOS's and Windows' usual ones) extract refuses it: %s",
                        args.archive,
                        report.folding_conflict,
                    )
                return out.finished(data, f"{escape(str(args.archive))}: OK", _NOTHING_WRITTEN)
            return out.failure(
                _verify_failure_kind(report),
                report.reason or "the archive is damaged",
                EXIT_FAILED,
                data=data,
                text=f"{escape(str(args.archive))}: FAILED",
            )
        if args.command == "list":
            _require(args.archive, "archive")
            members = manager.list_archive(args.archive)
            rows = [_member_dict(m) for m in members]
            return out.finished(
                {"archive": str(args.archive), "members": rows},
                "\n".join(_member_line(r) for r in rows),
                _NOTHING_WRITTEN,
            )
        if args.command == "checksum":
            paths = [Path(p) for p in args.paths]
            for path in paths:
                _require(path, "path")
            unique = list(dict.fromkeys(paths))
            result = manager.calculate_checksums(unique, _config(args, tuned))
            missing = [p for p in unique if p not in result]
            data = {
                "files": {str(p): {"sha256": s, "md5": m} for p, (s, m) in result.items()},
                "unreadable": [str(p) for p in missing],
            }
            # each path as given, in the order given, as sha256sum prints them
            which = 1 if args.md5 else 0  # result: (sha256, md5)
            sums = [(result[p][which], a) for a, p in zip(args.paths, paths) if p in result]
            text = sum_lines(sums, terminal=not args.json and _is_terminal(sys.stdout))
            if missing:
                message = _cannot_checksum(missing)
                return out.failure("error", message, EXIT_FAILED, data=data, text=text)
            return out.finished(data, text, _NOTHING_WRITTEN)
    raise UsageError(f"unknown command {args.command}")  # pragma: no cover


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed
        return False


def _verify_failure_kind(report: Any) -> str:
    """The kind of a failed ``verify``, as ``extract`` names the same failure."""
    if report.unreadable:
        return "error"
    if report.unsupported:
        return "unsupported archive"
    return "unsafe archive" if report.unsafe else "damaged archive"


def _cannot_checksum(paths: list[Path]) -> str:
    """One line for the paths ``checksum`` could not read, each with why (the library's own
    warning per path is left to ``-v``, so the failure stays one line)."""
    reasons = [f"{escape(str(p))}: {_unreadable_reason(p)}" for p in paths]
    if len(reasons) == 1:
        return f"cannot checksum {reasons[0]}"
    return f"cannot checksum {len(reasons)} paths: {'; '.join(reasons)}"


def _unreadable_reason(path: Path) -> str:
    """Why ``path`` cannot be read as a file (``Is a directory``, ``Permission denied``,
    ``a FIFO (named pipe), not a regular file``...)."""
    try:
        info = os.stat(path)  # a socket cannot be opened at all: tell its kind first
        if stat.S_ISDIR(info.st_mode):
            return os.strerror(errno.EISDIR)
        if kind := not_a_file(info):
            return f"{kind}, not a regular file"
        fd = open_fd(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            os.read(fd, 1)
        finally:
            os.close(fd)
    except OSError as exc:
        return exc.strerror or str(exc)
    return "it could not be read"


def _member_dict(member: Any) -> dict[str, Any]:
    if hasattr(member, "_asdict"):
        data = member._asdict()
    elif hasattr(member, "__dataclass_fields__"):
        from dataclasses import asdict

        data = asdict(member)
    else:
        data = dict(vars(member))
    return {k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}


def _member_line(row: dict[str, Any]) -> str:
    """One listing line; names and link targets escaped (a name is archive data and may
    hold escape sequences or newlines)."""
    link = f" -> {escape(row['linkname'])}" if row.get("linkname") else ""
    mode = row.get("mode") or 0
    kind = escape(str(row.get("kind", "")))
    return f"{kind:8} {mode:04o} {row.get('size', 0):>12}  {escape(row['name'])}{link}"


class _EscapingFormatter(logging.Formatter):
    """Log lines with the message made terminal-safe (names in it may hold anything)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = one_line(record.message)
        return super().formatMessage(record)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _EscapingFormatter(
            "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"
            if verbose
            else "archive-parallel: %(levelname)s: %(message)s"
        )
    )
    root = logging.getLogger("archive_parallel")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    root.propagate = False
    # checksum's one error line says why each path failed; the warning per path is for -v
    logging.getLogger("archive_parallel.checksums").setLevel(
        logging.NOTSET if verbose else logging.ERROR
    )


#: the loggers ``_setup_logging`` configures, and ``_logging_restored`` puts back
_CLI_LOGGERS = ("archive_parallel", "archive_parallel.checksums")


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Put the package's loggers back as they were (handlers, level, propagation) once a
    command has run, so that ``run()`` called inside a program leaves its logging alone."""
    saved = []
    for name in _CLI_LOGGERS:
        log = logging.getLogger(name)
        saved.append((log, log.handlers[:], log.level, log.propagate))
    try:
        yield
    finally:
        for log, handlers, level, propagate in saved:
            log.handlers[:] = handlers
            log.setLevel(level)
            log.propagate = propagate


def _wants_verbose(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for ``-v``/``--verbose``: logging is set up before the arguments
    are parsed (the parser's help reads the tuned profile, which may warn)."""
    return any(arg == "-v" or (len(arg) > 5 and "--verbose".startswith(arg)) for arg in argv)


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the command, return the exit code.

    From the start, Ctrl-C, and SIGTERM by the same path, is raised only at a checkpoint,
    where no lock is held (see ``interrupts``), and never while the answer is printed:
    ``CommandOutput.interrupted`` and ``finished`` say what it means at that point."""
    argv = sys.argv[1:] if argv is None else list(argv)
    out = CommandOutput(wants_json(argv))
    try:
        with _logging_restored(), deferred_interrupts({signal.SIGTERM: Terminated}):
            try:
                return _parse_and_run(argv, out)
            except KeyboardInterrupt as exc:
                return out.interrupted(exc)
    except KeyboardInterrupt as exc:  # recorded while the answer was printed
        return out.interrupted(exc)


def _parse_and_run(argv: list[str], out: CommandOutput) -> int:
    _setup_logging(_wants_verbose(argv))
    # this machine's tuned defaults, read once per run so that a bad profile is warned about
    # once (each setting no config accepts is ignored with a warning)
    tuned = load_tuned_defaults()
    parser = _build_parser(tuned)
    try:
        args = parser.parse_args(argv)
    except _ArgumentsRefused as exc:
        return out.failure("usage", str(exc), EXIT_USAGE)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    _setup_logging(args.verbose)
    out.as_json = args.json
    try:
        return _run(args, out, tuned)
    except UsageError as exc:
        return out.failure("usage", str(exc), EXIT_USAGE)
    except (UnsafeArchiveError, CorruptArchiveError, ArchiveError, ValueError, OSError) as exc:
        if args.verbose:
            logger.exception("failed")
        kind = {
            UnsafeArchiveError: "unsafe archive",
            UnsupportedArchiveError: "unsupported archive",
            CorruptArchiveError: "damaged archive",
        }
        label = next((v for k, v in kind.items() if isinstance(exc, k)), "error")
        message = f"{exc}{refusal_hint(exc)}"
        return out.failure(label, message, EXIT_FAILED, details=refused_entries(exc))
