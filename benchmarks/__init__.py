"""Side-by-side benchmarks: `make bench` runs them all and writes benchmarks/results/<topic>.json."""
