"""The command line: argument parsing, command handlers, output, exit codes."""
