"""Reading YAML and JSON input files safely: bounded size, no symlinks, clear errors.

The YAML loader is PyYAML's safe loader with three additions that fleet files need:
duplicate keys are an error (PyYAML keeps the last one silently), aliases may not expand
into more than MAX_ALIAS_NODES extra nodes (a "billion laughs" document is rejected
before anything walks it) nor refer to themselves, and, on request, every mapping
remembers the line of each of its keys so a finding can name `file:line`.

Most files are read by a second, faster constructor (`fast_yaml_documents`, below) that
hands anything unusual back to the loader above, so every error still comes from one place.
It stays because the full pass must cost at most 1.5x the bare parse on the M fleet, and
without it it does not (issue 11, bench/RESULTS.md): CPU seconds of one process, medians
of 3, fast / without / bare parse 45.0 / 65.9 / 40.2 s, ratio 1.12 with and 1.64 without;
on a quiet machine that is a 19 s pass becoming about 28 s against a 15.4 s bare parse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from reconciler.core.problems import InputError, Problem

MAX_FILE_BYTES = 4 * 1024 * 1024  # a fleet file larger than this is a mistake, not a manifest
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add by repetition; real files use a few dozen
MAX_DEPTH = 128  # nesting deeper than this is not a Kubernetes object
_MERGE = "tag:yaml.org,2002:merge"


class YamlMap(dict[Any, Any]):
    """A mapping loaded from YAML that knows its line and the line of each key (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[str, int] = {}


try:  # libyaml's parser, but Python's composer: the C composer overflows the C stack
    # (a segmentation fault) on deeply nested input, where Python's raises RecursionError.
    from yaml._yaml import CParser

    class _Parts(Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _Base: type[Any] = _Parts
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader


class YamlList(list[Any]):
    """A sequence loaded from YAML that knows the line of each item (1-based)."""

    __slots__ = ("item_lines",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []


class _Loader(_Base):  # type: ignore[misc]
    """Safe loader: duplicate keys rejected, alias expansion bounded, no recursion."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}

    def construct_document(self, node: Node) -> Any:
        _expanded_size(node, self._sizes)  # depth and cycles checked before anything is built
        try:
            return super().construct_document(node)
        except _CONSTRUCTION_FAULTS as error:  # from a deferred (generator) constructor
            raise _unreadable(node, error) from None

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:  # a second reference: an alias
            self._alias_nodes += _expanded_size(node, self._sizes)
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes "
                    "(an alias bomb?); write the values out instead",
                    node.start_mark,
                )
        try:
            return super().construct_object(node, deep=deep)
        except _CONSTRUCTION_FAULTS as error:  # e.g. 2026-13-45, an impossible timestamp
            raise _unreadable(node, error) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key_node.value!r} (first on line {first[key]})",
                    key_node.start_mark,
                )
            first[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


class _LineLoader(_Loader):
    """The safe loader whose mappings are YamlMaps carrying key lines."""

    def construct_yaml_map_with_lines(self, node: MappingNode) -> Any:
        data = YamlMap()
        data.line = node.start_mark.line + 1
        data.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, ScalarNode)
        }
        yield data
        data.update(self.construct_mapping(node))

    def construct_yaml_seq_with_lines(self, node: SequenceNode) -> Any:
        data = YamlList()
        data.item_lines = [item.start_mark.line + 1 for item in node.value]
        yield data
        data.extend(self.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_yaml_map_with_lines)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_yaml_seq_with_lines)


_CONSTRUCTION_FAULTS = (ValueError, TypeError, AttributeError, ArithmeticError)


def _unreadable(node: Node, error: Exception) -> yaml.constructor.ConstructorError:
    kind = str(node.tag).rsplit(":", 1)[-1]
    what = (
        f"{node.value!r}" if isinstance(node, ScalarNode) else f"this {getattr(node, 'id', 'node')}"
    )
    return yaml.constructor.ConstructorError(
        None,
        None,
        f"{what} cannot be read as !!{kind} ({error}); quote a value meant as text",
        node.start_mark,
    )


def _expanded_size(root: Node, sizes: dict[int, int]) -> int:
    """Nodes under `root` with every alias written out (memoized); rejects cycles and depth."""
    if id(root) in sizes:
        return sizes[id(root)]
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in on_path:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to itself (a recursive structure)", node.start_mark
            )
        if len(on_path) >= MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", node.start_mark
            )
        on_path.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "an alias refers to itself (a recursive structure)",
                    child.start_mark,
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


# ---- the fast path: the same values, built without the generator constructor ---------
#
# Most fleet files are plain manifests. For them, `fast_yaml_documents` composes with
# libyaml (C), builds the values in one recursive walk and tracks lines for free. It takes
# a file only when it can vouch for the same result as the loaders above: any tag it does
# not know, a merge key, a duplicate key, a cycle, alias expansion or nesting near the
# limits, or any error at all, and it returns None so that the full loader parses the file
# again and reports exactly what it always reported.

_FAST_MAX_HEIGHT = MAX_DEPTH - 28  # the full loader rejects paths of MAX_DEPTH + 1 nodes
# The C composer recurses on the C stack (a segmentation fault near 100,000 levels). Every
# collection needs one of these indicator characters of its own, so their count bounds the
# nesting; past this bound the Python composer (which raises RecursionError) is used.
_C_COMPOSER_INDICATORS = 2_000
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in (
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:binary",
    )
}
_SCALAR_CONSTRUCTOR = SafeConstructor()
_TAG_CACHE_LIMIT = 65_536


class _NotFast(Exception):
    """The fast path cannot vouch for this file: the full loader parses it."""


class _Tags(Resolver):
    """Implicit tag resolution for plain scalars, memoized: it depends only on its inputs."""

    _cache: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, implicit)
        tag = self._cache.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(self._cache) >= _TAG_CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = tag
        return tag


try:
    from yaml._yaml import CParser as _CParser

    class _CComposer(_CParser, _Tags):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Tags.__init__(self)

    _FastComposer: type[Any] | None = _CComposer
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _FastComposer = None


class _Builder:
    """One file's values from its nodes, as the safe loaders above would construct them."""

    def __init__(self, *, lines: bool, aliases: bool) -> None:
        self.lines = lines
        self.aliases = aliases
        self.alias_nodes = 0
        # id(node) -> (value, expanded size, expanded height); None while being built
        self.built: dict[int, tuple[Any, int, int] | None] = {}

    def document(self, node: Node) -> Any:
        if not self.aliases:  # every node is reached once: its depth is all there is to check
            return self.plain(node, 1)
        self.built = {}  # anchors never cross documents
        value, _, height = self.build(node, 1)
        if height > _FAST_MAX_HEIGHT:
            raise _NotFast
        return value

    def plain(self, node: Node, depth: int) -> Any:
        """`build` for a document without aliases: no sizes, no heights, no memo."""
        if depth > _FAST_MAX_HEIGHT:
            raise _NotFast
        tag = node.tag
        if tag == _STR and isinstance(node, ScalarNode):
            return node.value
        if tag == _MAP and isinstance(node, MappingNode):
            data: dict[Any, Any] = {}
            seen: set[tuple[str, str]] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                    raise _NotFast
                pair = (key_node.tag, key_node.value)
                if pair in seen:  # a duplicate key: the full loader words the error
                    raise _NotFast
                seen.add(pair)
                data[self.plain(key_node, depth + 1)] = self.plain(value_node, depth + 1)
            return self._with_lines(data, node) if self.lines else data
        if tag == _SEQ and isinstance(node, SequenceNode):
            items = [self.plain(item, depth + 1) for item in node.value]
            return self._list_with_lines(items, node) if self.lines else items
        if isinstance(node, ScalarNode):
            construct = _SCALARS.get(tag)
            if construct is not None:
                return construct(_SCALAR_CONSTRUCTOR, node)
        raise _NotFast

    @staticmethod
    def _with_lines(data: dict[Any, Any], node: MappingNode) -> YamlMap:
        mapping = YamlMap(data)
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, ScalarNode)
        }
        return mapping

    @staticmethod
    def _list_with_lines(items: list[Any], node: SequenceNode) -> YamlList:
        listed = YamlList(items)
        listed.item_lines = [item.start_mark.line + 1 for item in node.value]
        return listed

    def build(self, node: Node, depth: int) -> tuple[Any, int, int]:
        if depth > _FAST_MAX_HEIGHT:
            raise _NotFast
        if self.aliases:
            key = id(node)
            if key in self.built:
                done = self.built[key]
                if done is None:  # an alias inside its own anchor: a recursive structure
                    raise _NotFast
                self.alias_nodes += done[1]
                if self.alias_nodes > MAX_ALIAS_NODES or depth + done[2] > _FAST_MAX_HEIGHT:
                    raise _NotFast
                return done
            self.built[key] = None
            done = self._build(node, depth)
            self.built[key] = done
            return done
        return self._build(node, depth)

    def _build(self, node: Node, depth: int) -> tuple[Any, int, int]:
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == _STR:
                return node.value, 1, 1
            construct = _SCALARS.get(tag)
            if construct is None:
                raise _NotFast
            return construct(_SCALAR_CONSTRUCTOR, node), 1, 1
        if isinstance(node, SequenceNode) and tag == _SEQ:
            items: list[Any] = []
            size, height = 1, 0
            for item in node.value:
                value, item_size, item_height = self.build(item, depth + 1)
                items.append(value)
                size += item_size
                height = max(height, item_height)
            return (self._list_with_lines(items, node) if self.lines else items), size, height + 1
        if isinstance(node, MappingNode) and tag == _MAP:
            return self._mapping(node, depth)
        raise _NotFast

    def _mapping(self, node: MappingNode, depth: int) -> tuple[Any, int, int]:
        data: dict[Any, Any] = {}
        seen: set[tuple[str, str]] = set()
        size, height = 1, 0
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                raise _NotFast
            pair = (key_node.tag, key_node.value)
            if pair in seen:  # a duplicate key: the full loader words the error
                raise _NotFast
            seen.add(pair)
            key, key_size, key_height = self.build(key_node, depth + 1)
            value, value_size, value_height = self.build(value_node, depth + 1)
            data[key] = value
            size += key_size + value_size
            height = max(height, key_height, value_height)
        return (self._with_lines(data, node) if self.lines else data), size, height + 1


def fast_yaml_documents(text: str, *, lines: bool) -> list[Any] | None:
    """The documents of `text` as the full loader builds them; None when it must decide."""
    indicators = sum(text.count(c) for c in "[{-?:")
    composer_type = (
        _FastComposer
        if _FastComposer is not None and indicators < _C_COMPOSER_INDICATORS
        else _Base  # Python's composer over libyaml's events: it raises RecursionError
    )
    builder = _Builder(lines=lines, aliases="&" in text)
    try:
        composer = composer_type(text)
    except Exception:  # the full loader reports it
        return None
    try:
        documents = []
        while composer.check_node():
            node: Node = composer.get_node()
            document = builder.document(node)
            if document is not None:
                documents.append(document)
        return documents
    except Exception:  # anything at all: the full loader parses again and reports it
        return None
    finally:
        composer.dispose()


def read_text(path: Path, *, shown_as: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a text file, refusing symlinks, oversized and binary files with a Problem."""
    data = _file_bytes(path, shown_as=shown_as, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(_not_utf8(error, shown_as=shown_as)) from None


def read_utf8_bytes(path: Path, *, shown_as: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """`read_text` for parsers that take UTF-8 bytes: the same checks, no decoded copy."""
    data = _file_bytes(path, shown_as=shown_as, limit=limit)
    if not data.isascii():  # ASCII is UTF-8; anything else is checked as read_text does
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(_not_utf8(error, shown_as=shown_as)) from None
    return data


def _not_utf8(error: UnicodeDecodeError, *, shown_as: str) -> Problem:
    return Problem(shown_as, "", f"is not UTF-8 text (byte {error.start})")


def _file_bytes(path: Path, *, shown_as: str, limit: int) -> bytes:
    if path.is_symlink():
        raise InputError(Problem(shown_as, "", "is a symbolic link (not followed)"))
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(Problem(shown_as, "", f"is {size} bytes, over the {limit} byte limit"))
        if not path.is_file():
            raise InputError(Problem(shown_as, "", "is not a regular file"))
        data = path.read_bytes()
    except OSError as error:
        raise InputError(Problem(shown_as, "", f"cannot be read: {error.strerror}")) from None
    if b"\0" in data:
        raise InputError(Problem(shown_as, "", "is a binary file, not YAML"))
    return data


def load_yaml_documents(
    path: Path, *, shown_as: str, limit: int = MAX_FILE_BYTES, lines: bool = False
) -> list[Any]:
    """Parse every YAML document of a file (JSON too: it is YAML); empty documents dropped.

    With `lines`, mappings are YamlMaps that know the line of each key.
    """
    text = read_text(path, shown_as=shown_as, limit=limit)
    return parse_yaml_documents(text, shown_as=shown_as, lines=lines)


def parse_yaml_documents(text: str, *, shown_as: str, lines: bool = False) -> list[Any]:
    """Parse YAML text; a syntax error becomes an InputError naming the line."""
    if not lines and text.lstrip().startswith(("{", "[")):
        try:
            return [json.loads(text, object_pairs_hook=_unique_pairs)]
        except (ValueError, RecursionError):
            pass  # not JSON after all (or a duplicate key): let YAML report it
    documents = fast_yaml_documents(text, lines=lines)
    if documents is not None:
        return documents
    try:
        loader = _LineLoader(text) if lines else _Loader(text)
    except UnicodeError:  # only from a str that did not come from read_text
        raise InputError(Problem(shown_as, "", "is not valid UTF-8 text")) from None
    try:
        documents = []
        while loader.check_data():
            document = loader.get_data()
            if document is not None:
                documents.append(document)
        return documents
    except yaml.YAMLError as error:
        raise InputError(_syntax_problem(error, text=text, shown_as=shown_as)) from None
    except UnicodeError:
        raise InputError(Problem(shown_as, "", "is not valid UTF-8 text")) from None
    except RecursionError:
        raise InputError(
            Problem(shown_as, "", f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
        ) from None
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.YAMLError, *, text: str, shown_as: str) -> Problem:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if problem == "found character that cannot start any token" and mark is not None:
        line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if line[mark.column : mark.column + 1] == "\t":
            problem = "a tab character: YAML indents with spaces only"
    # The position is the field ("line 3, column 5"): a syntax error has no field of its own.
    return Problem(shown_as, where, f"invalid YAML: {problem}")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"duplicate key {key!r}")
        data[key] = value
    return data


def load_yaml_mapping(path: Path, *, shown_as: str, lines: bool = False) -> Any:
    """Parse a file that holds exactly one YAML document (or none)."""
    documents = load_yaml_documents(path, shown_as=shown_as, lines=lines)
    if len(documents) > 1:
        raise InputError(Problem(shown_as, "", f"holds {len(documents)} documents, expected one"))
    return documents[0] if documents else None


def line_of(document: object, field: str) -> int | None:
    """The line of the deepest key of a dotted field path ("spec.containers[0].image") found."""
    line = document.line if isinstance(document, YamlMap) and document.line else None
    node: object = document
    for part in _path_parts(field):
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                break
            if isinstance(node, YamlList) and part < len(node.item_lines):
                line = node.item_lines[part]
            node = node[part]
            if isinstance(node, YamlMap) and node.line:
                line = node.line
            continue
        if not isinstance(node, Mapping) or part not in node:
            break
        if isinstance(node, YamlMap) and part in node.key_lines:
            line = node.key_lines[part]
        node = node[part]
    return line


def _path_parts(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in field.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        for index in rest.replace("]", "").split("["):
            if index.lstrip("-").isdigit():
                parts.append(int(index))
    return parts
