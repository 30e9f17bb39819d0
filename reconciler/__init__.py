"""placement-reconciler: move a stuck group of workloads to a cluster that fits it, through git."""

__version__ = "0.1.0"
