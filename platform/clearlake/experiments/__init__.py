"""Self-serve experiments: a parameter grid of one algorithm version, run on the cluster
with a named resource profile, landing in the same comparisons and reports as commits."""
