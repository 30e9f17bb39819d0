"""Acting on a plan: write group moves into the fleet repo (git) and propose them.

`git_writer.Workspace` is the public surface for git: open a checkout or a clone,
`diff_for` a move (dry run) or `apply` it as one atomic commit, pushed with retries.
"""
