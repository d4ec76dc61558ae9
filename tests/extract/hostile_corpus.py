"""The hostile corpus: archives that extraction must refuse as a whole, described as ``Entry``
lists for every format (``hostile_cases``) and for tar only (``TAR_ONLY_CASES``), each with a
substring of the member the refusal must name. Extraction's tests and verification's share it.
"""

from __future__ import annotations

from pathlib import Path

from extract_helpers import Entry


def hostile_cases(sentinel: Path) -> dict[str, tuple[list[Entry], str]]:
    """name -> (entries, a substring of the member the error must name)."""
    return {
        "absolute": (
            [Entry("ok.txt", data=b"ok"), Entry(str(sentinel / "abs.txt"), data=b"x")],
            "abs.txt",
        ),
        "dotdot": ([Entry("../sentinel/secret.txt", data=b"pwned")], "../sentinel"),
        "dotdot-deep": ([Entry("ok/../../sentinel/secret.txt", data=b"pwned")], "ok/../.."),
        "backslash": ([Entry("..\\sentinel\\secret.txt", data=b"pwned")], "..\\sentinel"),
        "drive": ([Entry("C:\\sentinel\\x.txt", data=b"pwned")], "C:"),
        "symlink-out-then-write": (
            [
                Entry("escape", "symlink", linkname="../sentinel"),
                Entry("escape/pwned.txt", data=b"pwned"),
            ],
            "escape",
        ),
        "symlink-absolute": ([Entry("abs", "symlink", linkname=str(sentinel))], "abs"),
        "write-through-inner-link": (
            [
                Entry("sub", "dir", mode=0o755),
                Entry("lnk", "symlink", linkname="sub"),
                Entry("lnk/x.txt", data=b"through"),
            ],
            "lnk/x.txt",
        ),
        "symlink-chain-escape": (
            [
                Entry("d", "dir", mode=0o755),
                Entry("d/up", "symlink", linkname=".."),
                Entry("l3", "symlink", linkname="d/up/.."),
            ],
            "l3",
        ),
        "duplicate": ([Entry("a.txt", data=b"1"), Entry("a.txt", data=b"2")], "a.txt"),
        "file-replaces-folder": ([Entry("d", "dir", mode=0o755), Entry("d", data=b"x")], "d"),
        "file-under-file": ([Entry("f", data=b"x"), Entry("f/x", data=b"y")], "f/x"),
        "control-chars": ([Entry("bad\x1b[31mname", data=b"x")], "bad"),
        "newline": ([Entry("line\nbreak", data=b"x")], "line"),
        "long-component": ([Entry("x" * 300, data=b"x")], "xxxx"),
        "long-name": ([Entry("a/" * 2100 + "b", data=b"x")], "a/a/"),
        "fifo": ([Entry("pipe", "fifo")], "pipe"),
        "char-device": ([Entry("null", "chr")], "null"),
        "block-device": ([Entry("sda", "blk")], "sda"),
    }


TAR_ONLY_CASES = {
    "hardlink-outside": ([Entry("h", "hardlink", linkname="../sentinel/secret.txt")], "h"),
    "hardlink-absolute": ([Entry("h", "hardlink", linkname="/etc/passwd")], "h"),
    "hardlink-not-earlier": (
        [Entry("h", "hardlink", linkname="later.txt"), Entry("later.txt", data=b"x")],
        "h",
    ),
    "nul-in-name": ([Entry("evil\x00name", data=b"x")], "evil"),
}
CASE_NAMES = list(hostile_cases(Path("/s")))
