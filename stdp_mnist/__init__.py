"""stdp-mnist."""
