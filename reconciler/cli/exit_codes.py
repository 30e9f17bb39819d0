"""The exit codes of every command, and which error kind ends with which: one table.

0  success
1  a failure: a write that could not be done, `validate` found problems, `check` found a
   group whose verdict is in --fail-on (by default: will stall, fits nowhere), git or
   GitHub failed, or an unexpected error (a bug)
2  usage error, or the fleet repo is unusable (the message names file, field and what)
3  nothing could be judged: every cluster's status was unknown (`plan`, `run --once`),
   so a scheduled job does not look green while it saw nothing; `check`: every changed
   group's cluster was unknown
"""

from __future__ import annotations

from reconciler.core.errors import FleetRepoError, UsageError
from reconciler.gitrepo.workspace import WorkspaceError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOTHING_JUDGED = 3


def exit_code(error: BaseException) -> int:
    """The exit code for an error that ended a command: 2 when the user's input is at fault."""
    # A workspace that cannot be opened is the --repo argument's fault (not a checkout, no
    # such branch, an unusable clone directory).
    if isinstance(error, UsageError | FleetRepoError | WorkspaceError):
        return EXIT_USAGE
    return EXIT_FAILURE
