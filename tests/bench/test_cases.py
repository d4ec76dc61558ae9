"""Cases produce real outputs, and wrong outputs are caught by verification."""

import shutil
import tarfile

import pytest

from bench.cases import Case
from bench.grid import Cell, pigz_available

fixtures_gen = pytest.importorskip("fixtures_gen")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures") / "small-tree"
    fixtures_gen.make_tree("small", out, scale=0.3, seed=0)
    return out


def make_case(tree, tmp_path, operation, fmt, variant, threads=1, archive=None):
    cell = Cell(operation, fmt, "small", 0.3, variant, threads, 0, "zlib")
    spec = {
        "cell": cell.to_dict(),
        "tree": str(tree),
        "input_archive": str(archive) if archive else None,
        "scratch": str(tmp_path / cell.cell_id),
    }
    return Case(spec)


@pytest.mark.parametrize("fmt", ["tar.gz", "zip", "tar.bz2"])
def test_reference_create_is_verified_and_corruption_is_caught(tree, tmp_path, fmt):
    case = make_case(tree, tmp_path, "create", fmt, "reference")
    case.reset()
    case.run()
    assert case.verify() is None
    data = case.out.read_bytes()
    case.out.write_bytes(data[: len(data) // 2])  # truncated archive
    assert case.verify() is not None


def test_extraction_compared_with_manifest(tree, tmp_path):
    archive = tmp_path / "in.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            tar.add(path, path.relative_to(tree).as_posix())
    case = make_case(tree, tmp_path, "extract", "tar.gz", "reference", archive=archive)
    case.reset()
    case.run()
    assert case.verify() is None
    victim = next(p for p in case.dest.rglob("*") if p.is_file())
    victim.write_bytes(b"tampered")
    reason = case.verify()
    assert reason and "problem" in reason
    case.reset()
    assert not case.dest.exists()


def test_wrong_checksums_and_walks_are_invalid(tree, tmp_path):
    case = make_case(tree, tmp_path, "checksum", "", "reference")
    case.run()
    assert case.verify() is None
    first = next(iter(case.result))
    case.result[first] = ("0" * 64, "0" * 32)
    assert "wrong or missing" in case.verify()
    walk = make_case(tree, tmp_path, "walk", "", "reference")
    walk.run()
    assert walk.verify() is None
    walk.result = walk.result[1:]
    assert "walk found" in walk.verify()


@pytest.mark.skipif(not pigz_available(), reason="needs tar and pigz")
def test_pigz_variant_output_is_verified(tree, tmp_path):
    case = make_case(tree, tmp_path, "create", "tar.gz", "pigz", threads=2)
    case.reset()
    case.run()
    assert case.verify() is None


def test_library_create_is_verified(tree, tmp_path):
    pytest.importorskip("archive_parallel.manager")
    case = make_case(tree, tmp_path, "create", "tar.gz", "parallel", threads=2)
    case.reset()
    case.run()
    assert case.verify() is None
    case.close()
    shutil.rmtree(tmp_path, ignore_errors=True)
