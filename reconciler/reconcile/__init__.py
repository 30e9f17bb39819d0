"""One pass for every mode: read, plan, write."""
