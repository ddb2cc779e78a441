"""The results record: the generated table pools seeds honestly, the paired test is exact,
and the tables quoted in README.md and results/README.md are the generated one."""

import numpy as np
import pytest
from helpers import REPO_ROOT
from helpers.records import make_record
from helpers.scripts import load_script

ROOT = REPO_ROOT
collect = load_script("collect_results")
paired = load_script("experiments/paired_tests")


def test_seeds_pool_into_one_row_with_mean_and_sample_sd(tmp_path):
    make_record(tmp_path, "dc2015-400-seed0", 400, 0, 0.90, 0.3)
    make_record(tmp_path, "dc2015-400-seed1", 400, 1, 0.88, 0.5)
    make_record(tmp_path, "dc2015-100-seed0", 100, 0, 0.80, 0.1)
    lines = collect.table(tmp_path).splitlines()
    assert lines[2] == ("| dc2015-100 | 100 | 1 | 1 | 0.8000 | 0.8100 | 0.8200 | 0.829 | 0.10 |")
    # mean 0.89, sample sd of (0.90, 0.88) = 0.01414
    assert lines[3] == (
        "| dc2015-400 | 400 | 3 | 2 | 0.8900 ± 0.0141 | 0.9000 ± 0.0141 | 0.9100 ± 0.0141 | 0.870 | 0.40 |"
    )
    assert (
        "- dc2015-400: seeds 0, 1; 60,000 labelled, 10,000 test images; code 0123456; 'all' against the "
        "paper's 0.870: 2 of 2 seeds above, mean +2.00 points"
    ) in lines
    assert lines[-3].endswith(
        "'all' against the paper's 0.829: 0 of 1 seed above, mean -2.90 points; one seed: the spread between "
        "seeds is unmeasured"
    )
    assert lines[-1].startswith("- train wall h: mean training wall-clock hours") and lines[-1].endswith(
        "(dc2015-400's seeds took 1080 to 1800 s for the same work)"
    )


def test_the_brian1_reading_is_its_own_row_beside_the_default(tmp_path):
    make_record(tmp_path, "dc2015-400-seed0", 400, 0, 0.90, 0.3)
    make_record(tmp_path, "dc2015-400-brian1-seed0", 400, 0, 0.86, 0.3, config="dc2015-400-brian1")
    make_record(tmp_path, "dc2015-400-brian1-seed1", 400, 1, 0.84, 0.3, config="dc2015-400-brian1")
    make_record(tmp_path, "dc2015-1600-brian1-seed0", 1600, 0, 0.91, 1.5, config="dc2015-1600-brian1")
    rows = [line.split(" | ")[:4] for line in collect.table(tmp_path).splitlines()[2:6]]
    assert rows == [
        ["| dc2015-400", "400", "3", "1"],
        ["| dc2015-400-brian1", "400", "3", "2"],
        ["| dc2015-1600-brian1", "1600", "7", "1"],
        [""],
    ]


def test_datasets_are_kept_apart(tmp_path):
    """A Fashion-MNIST record is its own table, under its name; MNIST's rows are as they
    were, and the paper's number is only MNIST's."""
    make_record(tmp_path, "dc2015-400-seed0", 400, 0, 0.90, 0.3)
    mnist_only = collect.table(tmp_path)
    make_record(tmp_path, "dc2015-400-fashion-mnist-seed0", 400, 0, 0.80, 0.3, ["data.name=fashion-mnist"])
    text = collect.table(tmp_path)
    assert text.startswith(mnist_only)
    fashion = text[len(mnist_only) :].splitlines()
    assert fashion[:2] == ["", "Fashion-MNIST:"]
    assert fashion[5] == "| dc2015-400-fashion-mnist | 400 | 3 | 1 | 0.8000 | 0.8100 | 0.8200 | - | 0.30 |"
    assert "paper" not in fashion[-1].split(";")[-1]


def test_runs_that_differ_beyond_the_seed_are_refused(tmp_path):
    make_record(tmp_path, "dc2015-400-seed0", 400, 0, 0.90, 0.3)
    make_record(tmp_path, "dc2015-400-seed1", 400, 1, 0.88, 0.5, overrides=["stdp.rule=paper"])
    with pytest.raises(SystemExit, match="differ beyond the seed"):
        collect.table(tmp_path)


def test_pass_copies_are_not_rows():
    assert collect.config_name("dc2015-400-seed12") == "dc2015-400"
    assert collect.config_name("dc2015-6400") == "dc2015-6400"
    assert collect.config_name("dc2015-6400-pass3") == "dc2015-6400-pass3"  # and unfinished: never recorded


def test_quoted_tables_are_the_generated_one():
    generated = collect.table()
    assert (ROOT / "results" / "table.md").read_text() == generated
    for home in collect.TABLE_HOMES:
        text = home.read_text()
        block = text[text.index(collect.START) + len(collect.START) : text.index(collect.END)]
        assert block == "\n" + generated, f"{home.name}: rerun python scripts/collect_results.py --write"


def test_readme_quotes_the_recorded_quick_run():
    metrics = collect.run_metrics(collect.RECORDS / "quick-seed0")
    readme = (ROOT / "README.md").read_text()
    quoted = (
        f"{metrics.accuracy_all:.4f} 'all', {metrics.accuracy_proportion:.4f} 'proportion',\n"
        f"{metrics.accuracy_linear:.4f} linear (results/runs/quick-seed0"
    )
    assert quoted in readme


def test_a_run_resumed_under_several_commits_names_each(tmp_path):
    run = make_record(tmp_path, "dc2015-400-seed0", 400, 0, 0.90, 0.3)
    (run / "code_revision").write_text("aaaaaaa111\nbbbbbbb222 +local changes\n\naaaaaaa111\n")
    make_record(tmp_path, "dc2015-400-seed1", 400, 1, 0.88, 0.5)
    (tmp_path / "dc2015-400-seed1" / "code_revision").unlink()
    assert collect.code_revisions(run) == ["aaaaaaa", "bbbbbbb", "aaaaaaa"]
    assert "code aaaaaaa, bbbbbbb, unrecorded;" in collect.table(tmp_path)


def test_paired_tests_compare_sizes_among_the_defaults_and_brian1_with_its_default(tmp_path):
    labels = np.arange(10000) % 10
    for name, size, config, n_right in [
        ("dc2015-100-seed0", 100, None, 8000),
        ("dc2015-400-seed0", 400, None, 9000),
        ("dc2015-400-brian1-seed0", 400, "dc2015-400-brian1", 8500),
        ("dc2015-400-brian1-euler-seed0", 400, "dc2015-400-brian1-euler", 8800),
        ("dc2015-400-brian1-euler-fashion-mnist-seed0", 400, "dc2015-400-brian1-euler", 7000),
    ]:
        on_fashion = ["data.name=fashion-mnist"] if "fashion" in name else []
        run = make_record(tmp_path, name, size, 0, n_right / 10000, 0.1, on_fashion, config=config)
        predicted = labels.copy()
        predicted[n_right:] = (labels[n_right:] + 1) % 10  # the first n_right images right
        np.savez(
            run / "predictions.npz", labels=labels, all=predicted, proportion=predicted, linear=predicted
        )
    sizes, brian1 = paired.report(tmp_path).split("## The reference's Brian 1 numerics")
    sizes = sizes.split("## Each size against the next larger one")[1]
    assert "| dc2015-100-seed0 all | dc2015-400-seed0 all | 0.8000 | 0.9000 | -10.00 | 0 | 1000 |" in sizes
    assert "brian1" not in sizes
    assert (
        "| dc2015-400-brian1-seed0 all | dc2015-400-seed0 all | 0.8500 | 0.9000 | -5.00 | 0 | 500 |" in brian1
    )
    assert "| dc2015-400-brian1 | 0.870 | 1 | 0.8500 ± 0.0036 | 0 of 1 |" in brian1  # against the paper
    # one of the numerics alone follows the whole reading, against the same default
    part = "| dc2015-400-brian1-euler-seed0 all | dc2015-400-seed0 all | 0.8800 | 0.9000 | -2.00 | 0 | 200 |"
    assert part in brian1
    assert brian1.index("| dc2015-400-brian1-seed0 all") < brian1.index(part)
    whole = "| dc2015-400-brian1-euler-seed0 all | dc2015-400-brian1-seed0 all | 0.8800 | 0.8500 | +3.00 | 300 | 0 |"
    assert whole in brian1.split("## One of Brian 1's numerics alone against all of them")[1]
    # a reading on another dataset is never set against MNIST's network: other test images
    assert "fashion-mnist-seed0 all |" not in brian1.split("## Against the paper")[0]


def test_only_mnist_runs_are_set_against_the_paper(tmp_path):
    labels = np.arange(10000) % 10
    for name, accuracy, overrides in [
        ("dc2015-400-seed0", 0.90, []),
        ("dc2015-400-fashion-mnist-seed0", 0.70, ["data.name=fashion-mnist"]),
    ]:
        predicted = np.where(np.arange(10000) < accuracy * 10000, labels, (labels + 1) % 10)
        readouts = {"labels": labels, "all": predicted, "proportion": predicted, "linear": predicted}
        make_record(tmp_path, name, 400, 0, accuracy, 0.3, overrides, predictions=readouts)
    against_paper = paired.report(tmp_path).split("## Against the paper, seed by seed")[1]
    assert "| dc2015-400 | 0.870 | 1 | 0.9000 ± 0.0030 | 1 of 1 |" in against_paper
    assert "fashion" not in against_paper
