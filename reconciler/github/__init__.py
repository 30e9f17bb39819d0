"""GitHub: credentials, pull requests, branch publishing."""
