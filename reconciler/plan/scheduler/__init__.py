"""The full kube-scheduler simulation: one module per default plugin, for pods the fast path
in plan/fit.py cannot rank exactly (pod-to-pod rules, host ports, preferences, spreading)."""
