"""What every layer stands on: quantities, problems, errors, config schemas, YAML files."""
