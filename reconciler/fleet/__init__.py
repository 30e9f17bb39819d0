"""The fleet repo: clusters, groups and their manifests."""
