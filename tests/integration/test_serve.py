"""`stdp-mnist serve` through Flask's test client: POST /api/predict answers as `stdp-mnist
predict` does, refuses oversized (413) and unreadable (400) uploads, and leaves out the
linear class where the run has no linear readout; the page, its files and the run's
figures are served; the command fails in one line without Flask or an evaluation."""

import io
import re
import sys

import pytest
from helpers.cli import error_line, invoke
from helpers.runs import copy_run

pytest.importorskip("flask")

from stdp_mnist.figures import write_figures
from stdp_mnist.rundir import LINEAR_FILE
from stdp_mnist.serve.app import MAX_UPLOAD_BYTES, TOP_NEURONS, create_app


def predict_cli(run, image, readout) -> int:
    """The class `stdp-mnist predict RUN IMAGE --readout READOUT` prints."""
    result = invoke("predict", run, image, "--readout", readout)
    assert result.exit_code == 0, result.output
    return int(re.search(r": (\d)  confidence", result.stdout).group(1))


def post(client, data: bytes, name="digit.png", query=""):
    return client.post(f"/api/predict{query}", data={"image": (io.BytesIO(data), name)})


def test_predict_api_gives_the_classes_of_predict(evaluated_run, digits):
    client = create_app(evaluated_run).test_client()
    for image in digits:
        answer = post(client, image.read_bytes()).get_json()
        for readout in ("all", "proportion", "linear"):
            assert answer[readout] == predict_cli(evaluated_run, image, readout), (image, readout)
        assert len(answer["votes"]["all"]) == len(answer["votes"]["proportion"]) == 10
        assert answer["spikes"] >= 0 and "detail" not in answer


def test_predict_api_detail_is_that_presentation(evaluated_run, digits):
    answer = post(
        create_app(evaluated_run).test_client(), digits[0].read_bytes(), query="?detail=1"
    ).get_json()
    detail = answer["detail"]
    assert len(detail["image"]) == 784 and max(detail["image"]) == 255
    assert len(detail["excitatory_raster"]["t_ms"]) == answer["spikes"]  # the same presentation
    assert len(detail["input_raster"]["t_ms"]) == len(detail["input_raster"]["input"]) > 0
    spikes = [field["spikes"] for field in detail["fields"]]
    assert spikes == sorted(spikes, reverse=True) and 0 < len(spikes) <= TOP_NEURONS
    assert all(len(field["field"]) == 784 and max(field["field"]) == 1.0 for field in detail["fields"])


def test_predict_api_refuses_oversized_and_unreadable_uploads(evaluated_run):
    client = create_app(evaluated_run).test_client()
    big = post(client, b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert big.status_code == 413 and "too large" in big.get_json()["error"]
    bad = post(client, b"not an image at all", name="note.txt")
    assert bad.status_code == 400 and bad.get_json()["error"].startswith("note.txt: not an image")
    empty = client.post("/api/predict", data=b"")
    assert empty.status_code == 400 and "empty" in empty.get_json()["error"]
    unnamed = client.post("/api/predict", data={"picture": (io.BytesIO(b"x"), "a.png")})
    assert unnamed.status_code == 400 and "'image'" in unnamed.get_json()["error"]


def test_run_without_linear_readout_answers_the_voting_classes(evaluated_run, digits, tmp_path):
    run = copy_run(evaluated_run, tmp_path / "run")
    (run / LINEAR_FILE).unlink()
    answer = post(create_app(run).test_client(), digits[1].read_bytes()).get_json()
    assert "linear" not in answer and "probabilities" not in answer
    assert answer["all"] == predict_cli(run, digits[1], "all")


def test_page_files_and_run_are_served(evaluated_run, tmp_path):
    run = copy_run(evaluated_run, tmp_path / "run")
    write_figures(run, ("receptive-fields",))
    client = create_app(run).test_client()
    page = client.get("/")
    assert page.status_code == 200 and b'id="digit"' in page.data
    assert b"http" not in page.data  # nothing from outside the package
    assert client.get("/static/app.js").status_code == 200
    run = client.get("/api/run").get_json()
    assert run["n_excitatory"] == 6 and set(run["accuracy"]) == {"all", "proportion", "linear"}
    assert "receptive_fields.png" in run["figures"]
    figure = client.get("/api/figures/receptive_fields.png")
    assert figure.status_code == 200 and figure.data.startswith(b"\x89PNG")
    assert client.get("/api/figures/..%2Fmodel.npz").status_code == 404


def test_serve_fails_in_one_line_without_evaluation_or_flask(trained_run, evaluated_run, monkeypatch):
    error_line(invoke("serve", trained_run), "not been evaluated", "stdp-mnist evaluate")
    monkeypatch.setitem(sys.modules, "stdp_mnist.serve.app", None)
    error_line(invoke("serve", evaluated_run), 'pip install "stdp-mnist[serve]"')


def test_model_file_is_served_as_its_run(evaluated_run, digits, tmp_path):
    model = tmp_path / "model.npz"
    assert invoke("export", evaluated_run, model).exit_code == 0
    from_file = post(create_app(model).test_client(), digits[0].read_bytes()).get_json()
    from_run = post(create_app(evaluated_run).test_client(), digits[0].read_bytes()).get_json()
    assert from_file == from_run


def test_threaded_server_answers_concurrent_requests_alike(evaluated_run, digits):
    import threading
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(evaluated_run), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    body = digits[0].read_bytes()

    def request_one(_):
        req = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/predict", data=body)
        return urllib.request.urlopen(req, timeout=60).read()

    try:
        with ThreadPoolExecutor(6) as pool:
            answers = set(pool.map(request_one, range(12)))
    finally:
        server.shutdown()
        server.server_close()
    assert len(answers) == 1  # every request got the same (deterministic) answer


def test_serve_on_a_port_in_use_is_one_line(evaluated_run):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        error_line(invoke("serve", evaluated_run, "--port", port), f"cannot listen on 127.0.0.1:{port}")
