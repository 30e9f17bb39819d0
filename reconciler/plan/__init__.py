"""Pure decisions: stuck detection, demand, node-level fit, target choice, guards."""
