"""fixtures_gen: deterministic synthetic file trees that compress like real ones.

The same profile, scale and seed give byte-identical trees on every platform and Python
version. Bench calls ``make_tree`` and ``verify_tree`` (and ``snapshot_tree`` for a
user's own tree); everything here is standard library.
"""

from __future__ import annotations

from .builtin import PROFILES
from .content import NOMINAL_GZIP_RATIO, ContentSpec, parse_content
from .errors import FixturesError, InsufficientSpaceError, UnlistedEntriesError
from .generate import make_tree, required_bytes
from .manifest import Manifest, ManifestEntry, load_manifest, manifest_path_for
from .plan import TreePlan, plan_tree
from .pools import MODELS
from .profiles import (
    Group,
    Profile,
    estimate_bytes,
    estimate_file_count,
    get_profile,
    load_profile_file,
)
from .sizes import SizeSpec
from .snapshot import snapshot_tree
from .verify import VerifyReport, verify_tree

__all__ = [
    "MODELS",
    "NOMINAL_GZIP_RATIO",
    "PROFILES",
    "ContentSpec",
    "FixturesError",
    "Group",
    "InsufficientSpaceError",
    "Manifest",
    "ManifestEntry",
    "Profile",
    "SizeSpec",
    "TreePlan",
    "UnlistedEntriesError",
    "VerifyReport",
    "snapshot_tree",
    "estimate_bytes",
    "estimate_file_count",
    "get_profile",
    "load_manifest",
    "load_profile_file",
    "make_tree",
    "manifest_path_for",
    "parse_content",
    "plan_tree",
    "required_bytes",
    "verify_tree",
]
