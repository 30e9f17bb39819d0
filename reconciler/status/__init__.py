"""Cluster status: the ClusterState model and its sources (snapshot files, live API)."""
