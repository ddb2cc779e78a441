"""The web page of ``stdp-mnist serve``: draw a digit, see what the network sees and does.

``create_app`` opens a run directory or model file once (stdp_mnist.model_file) and
serves, from files shipped in this package only (no CDN: it works offline):

- ``GET /``: the page (static/index.html, app.js, style.css);
- ``POST /api/predict``: an image file (multipart field ``image``, or the request body)
  read and classified by the code of ``stdp-mnist predict`` (predict.digit_from_bytes,
  predict.classify), answered as JSON: the class by each readout (``all``,
  ``proportion`` and, where the run has one, ``linear``), the votes per class, the
  spikes; with ``?detail=1`` also the 28 x 28 image the network saw, the input and
  excitatory spike rasters of that presentation (stdp_mnist.diagnostics, the same
  presentation) and the receptive fields of the neurons that fired most. An upload over
  MAX_UPLOAD_BYTES is refused with 413, an unreadable image with 400, each with a
  one-line ``error``;
- ``GET /api/run``: the run's summary (the lines of ``stdp-mnist info``), its test
  accuracies and the names of its figures; ``GET /api/figures/NAME``: one of them.

The kernel runs one request at a time (a lock); everything else is served concurrently.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from flask import Flask, jsonify, request, send_from_directory

from .. import diagnostics
from ..figures import figures_dir
from ..model_file import Model, open_model
from ..predict import ImageError, classify, digit_from_bytes, predict_seed
from ..records import READOUTS
from ..report import info
from ..rundir import ASSIGNMENTS_FILE, RunDirError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
TOP_NEURONS = 8  # receptive fields shown: the neurons that fired most
STATIC_DIR = Path(__file__).parent / "static"


def _evaluated_model(path: str | Path) -> Model:
    """The model at ``path``; RunDirError when it has not been evaluated (no votes)."""
    model = open_model(path)
    if model.assignments is None:
        raise RunDirError(
            f"{path}: no {ASSIGNMENTS_FILE}: the run has not been evaluated; run: stdp-mnist evaluate {path}"
        )
    return model


def _detail(model: Model, digit: np.ndarray, counts: np.ndarray) -> dict:
    """What the page draws of one presentation: image, rasters, the top neurons' fields."""
    trace = diagnostics.trace_example(model.cfg, model.network, digit, predict_seed(model.cfg))
    in_steps, in_ids = trace.input_spikes()
    fired = np.flatnonzero(counts)
    top = fired[np.argsort(-counts[fired], kind="stable")][:TOP_NEURONS]
    weights = model.network.weights
    fields = []
    for j in top.tolist():
        field = weights[:, j].astype(np.float64)
        field = field / field.max() if field.max() > 0 else field
        fields.append(
            {
                "neuron": j,
                "spikes": int(counts[j]),
                "class": int(model.assignments[j]),
                "field": np.round(field, 3).tolist(),
            }
        )
    return {
        "image": digit.reshape(-1).astype(int).tolist(),
        "present_ms": trace.n_steps * trace.dt_ms,
        "n_inputs": int(digit.size),
        "n_excitatory": model.network.n_excitatory,
        "input_raster": {"t_ms": ((in_steps + 1) * trace.dt_ms).tolist(), "input": in_ids.tolist()},
        "excitatory_raster": {
            "t_ms": ((trace.spike_steps + 1) * trace.dt_ms).tolist(),
            "neuron": trace.spike_neurons.tolist(),
        },
        "fields": fields,
    }


def _figures_folder(model: Model) -> Path:
    return figures_dir(model.path.parent if model.is_file else model.path)


def create_app(path: str | Path) -> Flask:
    """The Flask app serving the run directory or model file at ``path``."""
    model = _evaluated_model(path)
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    kernel_lock = threading.Lock()

    def error(status: int, message: str):
        return jsonify({"error": message}), status

    @app.errorhandler(413)
    def too_large(_):
        return error(413, f"upload too large (at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB)")

    @app.errorhandler(404)
    def not_found(_):
        return error(404, "not found")

    @app.errorhandler(405)
    def not_allowed(_):
        return error(405, "method not allowed")

    @app.get("/")
    def page():
        return send_from_directory(STATIC_DIR, "index.html")

    @app.post("/api/predict")
    def predict():
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("image")
            if upload is None:
                return error(400, "no file in the form field 'image'")
            name, data = upload.filename or "upload", upload.read()
        else:  # the image as the request body
            name, data = "upload", request.get_data()
        try:
            digit = digit_from_bytes(data, name)
        except ImageError as exc:
            return error(400, " ".join(str(exc).split()))
        with kernel_lock:
            result = classify(model.cfg, model.network, model.assignments, model.class_rates, digit[None])[0]
            answer = {
                **result.classes(model.linear),
                "votes": {
                    "all": np.round(result.scores_all, 4).tolist(),
                    "proportion": np.round(result.scores_proportion, 4).tolist(),
                },
                "spikes": result.spikes,
                "boosts": result.retries,
            }
            if model.linear is not None:
                probabilities = model.linear.probabilities(result.counts[None])[0]
                answer["probabilities"] = {"linear": np.round(probabilities, 4).tolist()}
            if request.args.get("detail") == "1":
                answer["detail"] = _detail(model, digit, result.counts)
        return jsonify(answer)

    @app.get("/api/run")
    def run():
        metrics = model.metrics
        figures = sorted(p.name for p in _figures_folder(model).glob("*.png"))
        return jsonify(
            {
                "path": str(model.path),
                "summary": info(model.path),
                "n_excitatory": model.network.n_excitatory,
                "examples_trained": int(model.network.examples_seen[0]),
                "accuracy": {
                    readout: metrics.accuracy(readout)
                    for readout in READOUTS
                    if metrics is not None and metrics.accuracy(readout) is not None
                },
                "n_test": None if metrics is None else metrics.n_test,
                "figures": figures,
            }
        )

    @app.get("/api/figures/<name>")
    def figure(name: str):
        folder = _figures_folder(model)
        if not name.endswith(".png") or name not in {p.name for p in folder.glob("*.png")}:
            return error(404, f"no figure {name}")
        return send_from_directory(folder, name)

    return app
