"""stdp_mnist.records: the evaluation's results and a training metrics line, each read
and written in one place, records of earlier versions included."""

import itertools
import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from stdp_mnist.records import READOUTS, Evaluation, MetricsLine, RecordError

COMMITTED = sorted((REPO_ROOT / "results" / "runs").glob("*/metrics.json"))


def test_every_committed_evaluation_loads_and_writes_back_the_same_json():
    assert COMMITTED  # results/runs/*/metrics.json
    for path in COMMITTED:
        text = path.read_text()
        evaluation = Evaluation.from_json(text, str(path))
        assert evaluation.extra == {}, path  # every key a field
        assert json.loads(evaluation.to_json()) == json.loads(text)
        assert list(json.loads(evaluation.to_json())) == list(json.loads(text))  # in the same order
        assert evaluation.accuracy("all") == evaluation.accuracy_all
        assert sum(map(sum, evaluation.confusion("all"))) == evaluation.n_test


def test_an_evaluation_from_before_the_linear_readout_loads_with_none():
    old = {
        "accuracy_all": 0.8,
        "accuracy_proportion": 0.81,
        "n_test": 10,
        "n_assign": 20,
        "examples_trained": 30,
        "confusion_all": [[1]],
    }
    evaluation = Evaluation.from_dict(old)
    assert evaluation.accuracy_linear is None and evaluation.accuracy("linear") is None
    assert evaluation.confusion_linear is None and not evaluation.linear_capped
    assert evaluation.eval_wall_s == 0.0
    assert json.loads(evaluation.to_json())["accuracy_linear"] is None


def test_unknown_keys_are_kept_and_written_back():
    evaluation = Evaluation(
        accuracy_all=0.5, accuracy_proportion=0.5, n_test=2, n_assign=2, examples_trained=4, extra={"x": 1}
    )
    again = Evaluation.from_json(evaluation.to_json())
    assert again == evaluation and again.extra == {"x": 1}


@pytest.mark.parametrize(
    "text, problem",
    [("[1, 2]", "not a JSON object"), ('{"accuracy_all": 0.5}', "no accuracy_proportion, n_test")],
)
def test_a_record_without_its_fields_is_refused_by_name(text, problem):
    with pytest.raises(RecordError, match=problem):
        Evaluation.from_json(text, "metrics.json")
    with pytest.raises(ValueError):  # RecordError is a ValueError, as a JSON error is
        Evaluation.from_json("{", "metrics.json")


def test_the_linear_fit_that_reached_its_limit_is_capped():
    values = dict(accuracy_all=0.5, accuracy_proportion=0.5, n_test=2, n_assign=2, examples_trained=4)
    assert Evaluation(**values, linear_iterations=1000, linear_max_iterations=1000).linear_capped
    assert not Evaluation(**values, linear_iterations=999, linear_max_iterations=1000).linear_capped
    assert READOUTS == ("all", "proportion", "linear")


def test_a_metrics_line_round_trips_in_its_key_order():
    text = (
        '{"examples_seen": 8, "wall_s": 1.5, "spikes_per_example": 12.0, "boosts": 1, '
        '"mean_theta_mv": 20.1, "running_accuracy": null}'
    )
    line = MetricsLine.from_json(text)
    assert line.examples_seen == 8 and line.running_accuracy is None
    assert line.to_json() == text
    assert MetricsLine.from_json('{"examples_seen": 4}').wall_s is None  # an older, shorter line
    with pytest.raises(RecordError, match="no examples_seen"):
        MetricsLine.from_json('{"wall_s": 1.0}')


def test_committed_training_records_load():
    for path in sorted((REPO_ROOT / "results" / "runs").glob("*/metrics.jsonl"))[:3]:
        lines = [MetricsLine.from_json(line) for line in Path(path).read_text().splitlines()]
        assert lines and all(a.examples_seen < b.examples_seen for a, b in itertools.pairwise(lines))
