"""``stdp-mnist serve``: a local web page to look inside a trained network (Flask, the
optional ``serve`` extra). See stdp_mnist.serve.app."""
