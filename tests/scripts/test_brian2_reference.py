"""scripts/benchmarks/brian2_reference.py: a stdp-mnist model file loaded into the Brian2
port, and the one-line error for one it cannot use (skipped where Brian2 is absent, as
in CI, which does not install it)."""

import numpy as np
import pytest
from helpers.scripts import load_script

from stdp_mnist import kernel
from stdp_mnist.network import new_network, save_network
from stdp_mnist.rundir import create_run_dir

b2 = pytest.importorskip("brian2")
port = load_script("benchmarks/brian2_reference")


@pytest.fixture(autouse=True)
def numpy_codegen():
    """Brian2's numpy target: building the network compiles nothing (Cython would take minutes)."""
    before = b2.prefs["codegen.target"]
    b2.prefs["codegen.target"] = "numpy"
    yield
    b2.prefs["codegen.target"] = before


def saved_network(path, cfg):
    """A network of ``cfg`` with a theta, weights and potentials of its own, saved to ``path``."""
    network = new_network(cfg)
    rng = np.random.default_rng(1)
    network.theta[:] = rng.uniform(10, 30, network.theta.shape)
    network.weights[:] = rng.random(network.weights.shape)
    network.exc[kernel.V] = rng.uniform(-70, -60, network.theta.shape)
    save_network(network, path, cfg.model_hash(), cfg.model_values())
    return network


@pytest.mark.parametrize("learn", [True, False])
def test_a_model_files_weights_delays_theta_and_potentials_load_into_the_port(tmp_path, learn):
    cfg = port.paper_config(3)
    saved = saved_network(tmp_path / "model.npz", cfg)
    _, network = port.load_model(tmp_path / "model.npz")
    net, _, xe, _, _ = port._build_network(network, learn, seed=0)
    pre, post = np.asarray(xe.i[:]), np.asarray(xe.j[:])
    assert len(pre) == 784 * 3
    np.testing.assert_allclose(xe.w[:], saved.weights[pre, post])
    delays = xe.pre.delay[:] if learn else xe.delay[:]
    np.testing.assert_allclose(np.asarray(delays / b2.ms), saved.delays[pre, post] * 0.5)
    exc, inh = net["exc"], net["inh"]
    np.testing.assert_allclose(np.asarray(exc.theta / b2.mV), saved.theta)
    np.testing.assert_allclose(np.asarray(exc.v / b2.mV), saved.exc[kernel.V])
    np.testing.assert_allclose(np.asarray(inh.v / b2.mV), saved.inh[kernel.V])


def test_a_run_directory_with_another_network_is_refused_by_name(tmp_path):
    cfg = port.paper_config(3).replace(stdp={"nu_post": 0.02})
    create_run_dir(tmp_path / "run", cfg)
    saved_network(tmp_path / "run" / "model.npz", cfg)
    with pytest.raises(
        port.ModelError, match="stdp.nu_post = 0.02; the port simulates only the paper's network"
    ):
        port.load_model(tmp_path / "run")


@pytest.mark.parametrize("content", [b"not a model", None])
def test_a_bad_model_file_is_one_line_and_a_non_zero_exit(tmp_path, content):
    model = tmp_path / "model.npz"
    if content is not None:
        model.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        port.main(["--model", str(model), "--json"])
    message = exit_info.value.code
    assert isinstance(message, str) and "\n" not in message  # a string exits with status 1
    assert message.startswith(f"brian2_reference: error: {model}")


def test_presentation_counts_bin_spikes_into_each_examples_presentation():
    # examples of 500 ms: presentation [0, 350), rest [350, 500)
    times = np.array([0.0, 349.5, 350.0, 499.5, 500.0, 1200.0, 1349.5])
    assert port.presentation_counts(times, 3) == [2, 1, 2]
    assert port.presentation_counts(times, 2, skip=1) == [1, 2]
