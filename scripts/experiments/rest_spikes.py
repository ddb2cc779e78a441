"""How many excitatory spikes fall in the rest after a presentation, in a trained run.

The reference read its spike counter right after each 350 ms presentation, so the
spikes of the 150 ms rest that followed were counted towards the next presentation
(in the intensity-boost test and in the responses used for assignment and testing).
This project counts only the presentation's spikes. This script measures what that
choice can be worth: it shows the first K training images to the frozen network,
one block from rest, with boosts, exactly as a frozen evaluation does, and reports
the spikes of the classified presentation per example (as the evaluation counts
them), the spikes of the rest per presentation, and how many boost decisions would
have gone the other way had the previous rest's spikes been counted.

Usage: python scripts/experiments/rest_spikes.py RUN_DIR [K=2000] [SEED=0]
"""

import sys
from pathlib import Path

import numpy as np

from stdp_mnist import kernel
from stdp_mnist.data import load_configured
from stdp_mnist.network import kernel_params, load_network
from stdp_mnist.rundir import MODEL_FILE, read_run_config


def measure(cfg, network, images: np.ndarray, seed: int) -> dict:
    """Frozen presentations of ``images`` in one block from rest; the rest after each
    presentation is simulated as input-free presentation steps, so its spikes are counted."""
    p = kernel_params(cfg, frozen=True)
    present = p._replace(n_rest=0, exact_reset=False)
    rest = p._replace(n_present=p.n_rest, n_rest=0, exact_reset=False)
    no_input = np.zeros(p.n_rest + 1, np.int64), np.zeros(0, np.int32)
    n = network.n_excitatory
    state = kernel.init_state(p, network.theta.copy(), 0, int(network.delays.max()) + 1, 0.0)
    synapses = kernel.Synapses(network.weights, network.delays, network.delays)
    rng = np.array([seed], np.uint64)
    counts = np.zeros(n, np.int32)
    presentations = classified_spikes = rest_spikes = flips = 0
    previous_rest = 0
    for image in images:
        intensity, retries = p.intensity, 0
        while True:
            rates = image.astype(np.float64) * (p.rate_per_pixel_hz * intensity)
            ptr, idx = kernel.poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
            fired = kernel.simulate(present, ptr, idx, False, synapses, state, counts)
            presentations += 1
            # the reference's test: this presentation plus the rest before it
            flips += (fired >= p.min_spikes) != (fired + previous_rest >= p.min_spikes)
            previous_rest = kernel.simulate(rest, *no_input, False, synapses, state, counts)
            rest_spikes += previous_rest
            if fired >= p.min_spikes or not p.boost or retries >= p.max_retries:
                classified_spikes += fired
                break
            retries += 1
            intensity += p.intensity_step
    k = len(images)
    return {
        "examples": k,
        "presentations": presentations,
        "spikes_per_example": classified_spikes / k,
        "rest_spikes_per_presentation": rest_spikes / presentations,
        "boost_decisions_flipped": flips,
    }


def main() -> None:
    if not 2 <= len(sys.argv) <= 4:
        raise SystemExit(__doc__.split("\n\n")[-1].strip())
    run_dir = Path(sys.argv[1])
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    cfg = read_run_config(run_dir)
    network = load_network(run_dir / MODEL_FILE, cfg)
    result = measure(cfg, network, load_configured(cfg).train_images[:k], seed)
    print(
        f"{run_dir.name}: "
        + ", ".join(
            f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
            for key, value in result.items()
        )
    )


if __name__ == "__main__":
    main()
