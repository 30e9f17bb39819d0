"""Manifests → pod shapes: what a group's workloads ask of a cluster (pure, no I/O)."""
