"""The built-in profiles: small, medium, large, many-tiny, few-huge and package.

Figures use decimal units (1 MB = 10**6 bytes). Each recipe's group totals are exact at scale 1
(see ``sizes.py``); ``documented_files``/``documented_bytes`` are the rounded figures the profile
table of ``docs/fixtures.md`` shows, checked by the tests to within 5%.
"""

from __future__ import annotations

from .profiles import Group, Profile
from .sizes import SizeSpec

MB = 1_000_000
_MAX_FILE = 32 * 1024 * 1024  # stays under ArchiveConfig.max_file_size (100 MiB)


def _lognormal(mean: int, sigma: float = 1.0, low: int = 1, high: int = _MAX_FILE) -> SizeSpec:
    return SizeSpec(dist="lognormal", mean=mean, sigma=sigma, min=low, max=high)


def _uniform(low: int, high: int) -> SizeSpec:
    return SizeSpec(dist="uniform", min=low, max=high)


def _fixed(value: int) -> SizeSpec:
    return SizeSpec(dist="fixed", value=value)


_TEXT_EXT = (".txt", ".md", ".rst")
_MEDIA_EXT = (".jpg", ".png", ".mp3", ".zip", ".gz")
_DATA_EXT = (".bin", ".dat", ".db", ".idx")

SMALL = Profile(
    name="small",
    description="about 50 files, 1 MB: docs, sources, data and a few media files",
    documented_files=50,
    documented_bytes=1 * MB,
    groups=(
        Group("docs", 20, _lognormal(15_000), "text", "docs", 1, 3, _TEXT_EXT),
        Group("src", 20, _lognormal(12_500), "code", "src", 2, 3, (".py",)),
        Group("data", 7, _lognormal(40_000), "binary", "data", 0, 1, _DATA_EXT),
        Group("media", 3, _uniform(40_000, 73_334), "random", "media", 0, 1, _MEDIA_EXT),
    ),
)

MEDIUM = Profile(
    name="medium",
    description="about 1,000 files, 150 MB: two thirds compressible text, one third random",
    documented_files=1_000,
    documented_bytes=150 * MB,
    groups=(
        Group("docs", 300, _lognormal(100_000), "text", "docs", 2, 4, _TEXT_EXT),
        Group("src", 250, _lognormal(120_000), "code", "src", 3, 4, (".py",)),
        Group("logs", 150, _lognormal(266_667, 0.8), "log", "logs", 1, 4, (".log",)),
        Group("media", 300, _lognormal(166_667, 0.8), "random", "media", 2, 4, _MEDIA_EXT),
    ),
)

LARGE = Profile(
    name="large",
    description="about 10,000 files, 1 GB: sources, docs, logs, binary data, media, images",
    documented_files=10_000,
    documented_bytes=1_000 * MB,
    groups=(
        Group("src", 4_000, _lognormal(40_000), "code", "src", 4, 6, (".py", ".js", ".c")),
        Group("docs", 2_000, _lognormal(60_000), "text", "docs", 3, 6, _TEXT_EXT),
        Group("logs", 500, _lognormal(300_000), "log", "logs", 2, 5, (".log",)),
        Group("data", 2_000, _lognormal(100_000), "binary", "data", 3, 5, _DATA_EXT),
        Group("media", 1_200, _lognormal(250_000), "random", "media", 3, 5, _MEDIA_EXT),
        Group("images", 300, _lognormal(233_333), "sparse", "images", 1, 4, (".img",)),
    ),
)

MANY_TINY = Profile(
    name="many-tiny",
    description="20,000 files under 2 KiB (about 20 MB): per-file overhead dominates",
    documented_files=20_000,
    documented_bytes=20_600_000,
    groups=(
        Group("code", 12_000, _uniform(16, 2_047), "code", "src", 3, 8, (".py", ".json", ".cfg")),
        Group("notes", 6_000, _uniform(16, 2_047), "text", "notes", 2, 8, (".txt", ".md")),
        Group("blobs", 2_000, _uniform(1, 2_047), "binary", "blobs", 2, 6, (".bin",)),
    ),
)

FEW_HUGE = Profile(
    name="few-huge",
    description="3 files, 2.25 GB: a huge log, a sparse disk image, a random media file",
    documented_files=3,
    documented_bytes=2_250 * MB,
    notes=("--scale shrinks the files, not their number",),
    groups=(
        Group("log", 1, _fixed(1_000 * MB), "log", "", extensions=(".log",), scale_by="size"),
        Group("disk", 1, _fixed(750 * MB), "ratio:8", "", extensions=(".img",), scale_by="size"),
        Group("media", 1, _fixed(500 * MB), "random", "", extensions=(".mp4",), scale_by="size"),
    ),
)

PACKAGE = Profile(
    name="package",
    description=(
        "a realistic application package (about 3,700 files, 24 MB): Python sources and "
        "__pycache__, assets, configs, a virtualenv-like tree, .DS_Store/Thumbs.db junk, "
        "symlinks, empty files and folders, unicode and long names"
    ),
    documented_files=3_700,
    documented_bytes=24 * MB,
    symlinks=6,
    empty_dirs=5,
    groups=(
        Group("app-src", 120, _lognormal(6_000), "code", "app", 3, 4, (".py",)),
        Group("app-init", 12, _fixed(0), "code", "app", fixed_name="__init__.py"),
        Group(
            "app-pyc",
            120,
            _lognormal(7_000),
            "binary",
            extensions=(".cpython-311.pyc",),
            mirror="app-src",
            leaf_dir="__pycache__",
        ),
        Group("templates", 20, _lognormal(4_000), "text", "app/templates", 1, 3, (".html",)),
        Group("images", 60, _lognormal(40_000), "random", "assets/images", 1, 3, (".png", ".jpg")),
        Group("fonts", 6, _uniform(60_000, 140_000), "binary", "assets/fonts", 0, 1, (".ttf",)),
        Group("config", 16, _lognormal(1_500), "code", "config", 1, 2, (".toml", ".json", ".ini")),
        Group(
            "venv",
            2_500,
            _lognormal(4_500, 1.2),
            "code",
            "venv/lib/python3.11/site-packages",
            4,
            6,
            (".py",),
        ),
        Group(
            "venv-pyc",
            800,
            _lognormal(5_000, 1.2),
            "binary",
            extensions=(".cpython-311.pyc",),
            mirror="venv",
            leaf_dir="__pycache__",
        ),
        Group(
            "venv-so",
            10,
            _lognormal(400_000),
            "binary",
            "venv/lib/python3.11/site-packages",
            2,
            6,
            (".so",),
        ),
        Group("unicode", 12, _lognormal(3_000), "text", "docs/international", names="unicode"),
        Group(
            "long", 6, _lognormal(2_000), "text", "docs/long-names", 16, 1, (".txt",), names="long"
        ),
        Group("empty", 8, _fixed(0), "text", "data/placeholders", 1, 2, (".keep", ".dat")),
        Group("ds-store", 8, _uniform(6_148, 14_340), "binary", fixed_name=".DS_Store"),
        Group("thumbs", 4, _uniform(10_000, 40_000), "binary", "assets", fixed_name="Thumbs.db"),
    ),
)

PROFILES: dict[str, Profile] = {
    profile.name: profile for profile in (SMALL, MEDIUM, LARGE, MANY_TINY, FEW_HUGE, PACKAGE)
}
