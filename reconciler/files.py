"""Reading YAML and JSON input files safely: bounded size, no symlinks, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from reconciler.problems import InputError, Problem

MAX_FILE_BYTES = 4 * 1024 * 1024  # a fleet file larger than this is a mistake, not a manifest
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path, *, shown_as: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a text file, refusing symlinks, oversized and binary files with a Problem."""
    if path.is_symlink():
        raise InputError(Problem(shown_as, "", "is a symbolic link (not followed)"))
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(Problem(shown_as, "", f"is {size} bytes, over the {limit} byte limit"))
        data = path.read_bytes()
    except OSError as error:
        raise InputError(Problem(shown_as, "", f"cannot be read: {error.strerror}")) from None
    if b"\0" in data:
        raise InputError(Problem(shown_as, "", "is a binary file, not YAML"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(Problem(shown_as, "", f"is not UTF-8 text (byte {error.start})")) from None


def load_yaml_documents(path: Path, *, shown_as: str, limit: int = MAX_FILE_BYTES) -> list[Any]:
    """Parse every YAML document of a file (JSON too: it is YAML); empty documents dropped."""
    text = read_text(path, shown_as=shown_as, limit=limit)
    return parse_yaml_documents(text, shown_as=shown_as)


def parse_yaml_documents(text: str, *, shown_as: str) -> list[Any]:
    """Parse YAML text; a syntax error becomes an InputError naming the line."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return [json.loads(text)]
        except ValueError:
            pass  # not JSON after all: let YAML report it
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InputError(Problem(shown_as, where, f"invalid YAML: {problem}")) from None


def load_yaml_mapping(path: Path, *, shown_as: str) -> Any:
    """Parse a file that holds exactly one YAML document (or none)."""
    documents = load_yaml_documents(path, shown_as=shown_as)
    if len(documents) > 1:
        raise InputError(Problem(shown_as, "", f"holds {len(documents)} documents, expected one"))
    return documents[0] if documents else None
