"""The codec axes of the grid: tar.zst, fast backends, and archives made by other tools.

Formats named ``<format>+<maker>`` are archives of the workload written by another tool,
with no side file: ``tar.gz+tar`` (``tar czf``), ``zip+zip`` (Info-ZIP ``zip -r``),
``tar.gz+tarfile`` and ``zip+zipfile`` (the standard library). They are extracted and
verified only (nobody creates them with the library) and report as their own rows.

The ``backend`` column is the deflate implementation for create cells
(``compression_backend``: zlib, zlib-ng, isal) and the inflate implementation for extract and
verify cells (``decompression_backend``: zlib, zlib-ng, isal, and rapidgzip for tar.gz);
``backends_for`` keeps only the combinations that mean something. A cell that needs an
optional package this machine lacks (isal, zlib-ng, rapidgzip, Zstandard support) is not run:
``missing_package`` says why, and the sweep records it as not measured.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

MAKERS = ("tar", "zip", "tarfile", "zipfile")
FOREIGN_FORMATS = ("tar.gz+tar", "tar.gz+tarfile", "zip+zip", "zip+zipfile")
CREATE_BACKENDS = ("zlib", "zlib-ng", "isal")
READ_BACKENDS = ("zlib", "zlib-ng", "isal", "rapidgzip")
#: formats whose backend axis means something (deflate/inflate)
DEFLATE_BASES = ("tar.gz", "zip")
#: the codec of formats without a backend axis (their cells carry the first backend)
OWN_CODECS = {"tar.zst": "zstd", "tar.bz2": "bzip2", "tar.xz": "xz", "tar": "none"}
#: backend -> (modules, any one of which provides it; what to pip install)
BACKEND_PACKAGES = {
    "zlib-ng": (("zlib_ng",), "zlib-ng"),
    "isal": (("isal",), "isal"),
    "rapidgzip": (("rapidgzip",), "rapidgzip"),
}
ZSTD_PACKAGE = (("compression.zstd", "backports.zstd"), "backports.zstd")
#: how the sweep's record of a cell it could not run begins (the report shows these apart
#: from invalid cells: nothing went wrong, the machine lacks an optional package)
NOT_MEASURED = "not measured: "


def base_format(fmt: str) -> str:
    """``tar.gz+tar`` -> ``tar.gz``; a plain format stays as it is."""
    return fmt.split("+", 1)[0]


def is_foreign(fmt: str) -> bool:
    return "+" in fmt


def formats_for(operation: str, formats: tuple[str, ...]) -> tuple[str, ...]:
    """Archives of other tools are only read."""
    if operation == "create":
        return tuple(f for f in formats if not is_foreign(f))
    return formats


def backends_for(operation: str, fmt: str, backends: tuple[str, ...]) -> tuple[str, ...]:
    """The backends a cell of ``operation`` on ``fmt`` sweeps (the first one elsewhere)."""
    base = base_format(fmt)
    if base not in DEFLATE_BASES:
        return backends[:1]
    allowed = CREATE_BACKENDS if operation == "create" else READ_BACKENDS
    kept = tuple(b for b in backends if b in allowed and (b != "rapidgzip" or base == "tar.gz"))
    return kept or backends[:1]


def codec_name(fmt: str, backend: str) -> str:
    """What compresses a cell's archive, for people: the backend for tar.gz and zip, the
    format's own codec otherwise (``tar.zst`` -> ``zstd``)."""
    return OWN_CODECS.get(base_format(fmt), backend)


def _importable(modules: tuple[str, ...]) -> bool:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return True
    return False


def missing_package(cell: dict) -> str | None:
    """Why ``cell`` cannot run on this machine (an optional package it needs is not
    importable), as a record's reason starting with ``NOT_MEASURED``; None when it can."""
    needs = []
    base = base_format(cell["format"])
    if base == "tar.zst":
        needs.append(ZSTD_PACKAGE)
    library = cell["variant"] in ("parallel", "sequential")
    if library and base in DEFLATE_BASES and cell["backend"] in BACKEND_PACKAGES:
        needs.append(BACKEND_PACKAGES[cell["backend"]])
    for modules, package in needs:
        if not _importable(modules):
            return f"{NOT_MEASURED}{package} is not installed here (pip install {package})"
    return None


def library_backends(cell: dict) -> dict[str, str]:
    """The ArchiveConfig backend fields of a library cell."""
    backend = cell["backend"]
    if cell["operation"] == "create":
        return {"compression_backend": backend if backend in CREATE_BACKENDS else "zlib"}
    return {"decompression_backend": backend if backend in READ_BACKENDS else "auto"}


def tarfile_for(fmt: str):
    """The ``tarfile`` module that can handle ``fmt`` (tar.zst before Python 3.14 needs
    backports.zstd's)."""
    if base_format(fmt) == "tar.zst" and not hasattr(tarfile, "ZstdFile"):
        from backports.zstd import tarfile as zst_tarfile  # type: ignore[import-not-found]

        return zst_tarfile
    return tarfile


def build_foreign(tree: Path, fmt: str, target: Path, exclude: tuple[str, ...]) -> None:
    """Write ``tree`` as ``fmt`` (``<format>+<maker>``) with that maker, into ``target``."""
    maker = fmt.split("+", 1)[1]
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    files = sorted(
        p for p in tree.rglob("*") if (p.is_file() or p.is_symlink()) and p.name not in exclude
    )
    if maker == "tar":
        names = [p.relative_to(tree).as_posix() for p in files]
        listing = partial.with_suffix(".list")
        listing.write_text("\n".join(names) + "\n", encoding="utf-8")
        try:
            subprocess.run(
                [
                    "tar",
                    "-czf",
                    str(partial),
                    "-C",
                    str(tree),
                    "--no-recursion",
                    "-T",
                    str(listing),
                ],
                check=True,
            )
        finally:
            listing.unlink(missing_ok=True)
    elif maker == "zip":
        names = "\n".join(p.relative_to(tree).as_posix() for p in files) + "\n"
        subprocess.run(
            ["zip", "-q", "-y", "-6", str(partial.resolve()), "-@"],
            input=names.encode(),
            cwd=tree,
            check=True,
        )
    elif maker == "tarfile":
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for path in files:
                tar.add(path, path.relative_to(tree).as_posix(), recursive=False)
    elif maker == "zipfile":
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in files:
                if not path.is_symlink():
                    archive.write(path, path.relative_to(tree).as_posix())
    else:
        raise ValueError(f"unknown archive maker in {fmt!r}; expected one of {MAKERS}")
    os.replace(partial, target)


__all__ = [
    "FOREIGN_FORMATS",
    "NOT_MEASURED",
    "backends_for",
    "base_format",
    "build_foreign",
    "codec_name",
    "formats_for",
    "is_foreign",
    "library_backends",
    "missing_package",
    "tarfile_for",
]
