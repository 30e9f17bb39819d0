"""Suite-wide settings: property tests explore freely on a laptop, replay fixed seeds in CI."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI a property test must not fail on one run and pass on the next: derandomize there
# (the same examples every run, found by the same search), and keep the local database
# off so a clean checkout behaves exactly like the CI machine.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
