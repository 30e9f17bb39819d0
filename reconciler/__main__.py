"""`python -m reconciler` runs the command line."""

from reconciler.cli.main import main

raise SystemExit(main())
