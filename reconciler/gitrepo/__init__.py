"""git: command runner, clone, workspace, move commit, kustomization edits, history."""
