"""``python -m stdp_mnist``: the same command line as ``stdp-mnist``."""

from .cli import main

main(prog_name="stdp-mnist")
