"""Grid expansion: baselines once per group, batch sweep only where asked, stable ids."""

from bench.grid import PRESETS, Cell, GridSpec, Workload, cap_threads, expand_grid, shuffled


def test_expansion_counts_and_baselines():
    spec = GridSpec(
        operations=("create", "extract", "checksum"),
        formats=("tar.gz", "zip"),
        workloads=(Workload("medium", 0.1), Workload("many-tiny", 0.1)),
        threads=(1, 2, 4),
        batch_sizes=(10, 50, 200),
        batch_operations=("checksum",),
    )
    cells = expand_grid(spec, pigz=True)
    ids = [c.cell_id for c in cells]
    assert len(ids) == len(set(ids))
    # create: 2 formats x 2 workloads x (reference + sequential + 3 threads) + pigz 3 x 2
    create = [c for c in cells if c.operation == "create"]
    assert len(create) == 2 * 2 * 5 + 3 * 2
    assert {c.format for c in create if c.variant == "pigz"} == {"tar.gz"}
    extract = [c for c in cells if c.operation == "extract"]
    assert len(extract) == 2 * 2 * 5
    # checksum: format-less, batch sizes swept: 2 workloads x (2 + 3 threads x 3 batches)
    checksum = [c for c in cells if c.operation == "checksum"]
    assert len(checksum) == 2 * (2 + 9)
    assert {c.format for c in checksum} == {""}
    for c in cells:
        if c.variant in ("sequential", "reference"):
            assert c.threads == 1 and c.batch_size == 0
        if c.variant == "parallel" and c.operation != "checksum":
            assert c.batch_size == 50


def test_no_pigz_and_backends():
    spec = GridSpec(
        operations=("create",),
        formats=("tar.gz", "tar.bz2"),
        workloads=(Workload("small", 1.0),),
        threads=(1, 2),
        backends=("zlib", "zlib-ng"),
    )
    cells = expand_grid(spec, pigz=False)
    assert not [c for c in cells if c.variant == "pigz"]
    # zlib-ng only where deflate is used
    assert {c.backend for c in cells if c.format == "tar.bz2"} == {"zlib"}
    assert {c.backend for c in cells if c.format == "tar.gz"} == {"zlib", "zlib-ng"}


def test_cell_id_is_filename_safe_and_round_trips():
    cell = Cell("extract", "tar.gz", "many-tiny", 0.15, "parallel", 4, 200, "zlib-ng")
    assert cell.cell_id == "extract-targz-many-tiny-s0p15-parallel-t4-b200-zlib-ng"
    assert "/" not in cell.cell_id and "." not in cell.cell_id
    assert Cell.from_dict(cell.to_dict()) == cell


def test_shuffle_is_seeded_and_a_permutation():
    cells = expand_grid(PRESETS["quick"].grid, pigz=True)
    a, b = shuffled(cells, 1), shuffled(cells, 1)
    assert a == b and sorted(a) == sorted(cells) and a != sorted(cells)


def test_cap_threads():
    assert cap_threads((1, 2, 4, 8), cpu_count=2) == (1, 2, 4)
    assert cap_threads((1, 2, 4, 8), cpu_count=4) == (1, 2, 4, 8)
    assert cap_threads((1, 2, 4, 8), cpu_count=1) == (1, 2)
