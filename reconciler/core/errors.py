"""The errors a user can act on: one root, a few kinds, each message in plain words.

The command line turns a kind into an exit code in one place (`reconciler.cli.main`) and
prints the message as it is: a message never needs a Python class name to make sense.
Bad input inside a pass is not an error at all but a `Problem` value that is reported;
these are for what stops a command.
"""

from __future__ import annotations


class ReconcilerError(Exception):
    """Something the user can act on; str() of it is the whole message."""


class UsageError(ReconcilerError):
    """A command-line argument, or a setting in the environment, that cannot be used."""


class FleetRepoError(ReconcilerError):
    """The fleet repo (or a snapshot) cannot be used at all; the message names file and field."""


class ClusterReadError(ReconcilerError):
    """A cluster's status cannot be read (connection, credentials, or what it answered)."""


class GitError(ReconcilerError):
    """A git command failed, or git refused what was asked (a conflict, a lost race)."""


class GitHubError(ReconcilerError):
    """GitHub cannot be reached, refused a request, or rate-limited us."""


def in_plain_words(error: BaseException) -> str:
    """What to tell a user about an error: its message, or for a bug, that it was unexpected.

    A bug's message is cut to its first line; its class name and traceback are for --debug.
    """
    if isinstance(error, ReconcilerError):
        return str(error)
    lines = str(error).strip().splitlines()
    return f"unexpected failure: {lines[0]}" if lines else "unexpected failure"
