"""Operating it: daemon, leader election, metrics, health, logs."""
