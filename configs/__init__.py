"""The configs that ship with stdp-mnist: installed as the data package
``stdp_mnist.configs`` (pyproject.toml maps it onto this directory) and found by name
by ``stdp_mnist.shipped``; ``stdp-mnist configs`` lists them."""
