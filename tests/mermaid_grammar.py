"""A line-by-line check of the Mermaid we write against Mermaid's grammar, in Python.

The project writes two kinds of diagram: a `flowchart` (the pull request body) and a
`timeline` (`history --format mermaid`). This checks each line against the rules of
Mermaid's own grammars (flowchart.jison and timeline.jison, mermaid 11) for the subset
we write, and against the traps those grammars hold: reserved words as node ids, an
unescaped quote or pipe in a label, a ':' in a timeline period, a '#' that opens a
comment. A Node parser would need npm in CI for every run; this needs nothing, and the
cases it accepts and refuses were checked once against mermaid 11.17.2 (see the tests).
"""

from __future__ import annotations

import re

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = r'"(?P<{name}>[^"\n]*)"'
_RESERVED = {
    "end", "graph", "flowchart", "subgraph", "style", "class", "classDef", "click",
    "linkStyle", "default", "direction", "call", "href",
}  # fmt: skip
_NODE = re.compile(rf"(?P<id>{_ID})\[{_LABEL.format(name='label')}\]")
_EDGE = re.compile(
    rf"(?P<src>{_ID}) (?P<arrow>-->|==>|-\.->|-\.-|---)"
    rf"(?:\|{_LABEL.format(name='label')}\|)? (?P<dst>{_ID})"
)
_CLASS_DEF = re.compile(rf"classDef (?P<name>{_ID}) [a-z-]+:[^,;:]+(?:,[a-z-]+:[^,;:]+)*")
_CLASS = re.compile(rf"class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})")
_ENTITY = re.compile(r"#(?:\d+|[a-z]+);")
_DIRECTIONS = {"LR", "RL", "TB", "TD", "BT"}


def check_mermaid(text: str) -> list[str]:
    """What is wrong with a diagram (empty when it keeps to the grammar), line by line."""
    lines = [line for line in text.strip("\n").split("\n") if line.strip()]
    if not lines:
        return ["empty diagram"]
    head = lines[0].split()
    if head[:1] == ["flowchart"]:
        return _flowchart(head, lines[1:])
    if head == ["timeline"]:
        return _timeline(lines[1:])
    return [f"line 1: unknown diagram {lines[0]!r}"]


def mermaid_blocks(markdown: str) -> list[str]:
    """The diagrams fenced as ```mermaid in a Markdown text."""
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def _flowchart(head: list[str], body: list[str]) -> list[str]:
    errors = []
    if len(head) != 2 or head[1] not in _DIRECTIONS:
        errors.append(f"line 1: a flowchart needs one direction of {sorted(_DIRECTIONS)}")
    nodes: set[str] = set()
    classes: set[str] = set()
    for number, raw in enumerate(body, start=2):
        line = raw.strip()
        found = _NODE.fullmatch(line) or _EDGE.fullmatch(line)
        found = found or _CLASS_DEF.fullmatch(line) or _CLASS.fullmatch(line)
        if found is None:
            errors.append(f"line {number}: not a node, an edge or a class: {line!r}")
            continue
        groups = found.groupdict()
        ids = [groups.get("id"), groups.get("src"), groups.get("dst")]
        ids += groups["ids"].split(",") if groups.get("ids") else []
        for name in filter(None, ids):
            if name in _RESERVED or name.lower() == "end":
                errors.append(f"line {number}: {name!r} is a reserved word, not a node id")
        if groups.get("label") is not None:
            errors += _label_errors(groups["label"], number=number)
        if groups.get("id"):
            nodes.add(groups["id"])
        for name in filter(None, (groups.get("src"), groups.get("dst"))):
            if name not in nodes:
                errors.append(f"line {number}: {name!r} is used before it is declared")
        if line.startswith("classDef "):
            classes.add(groups["name"])
        elif line.startswith("class "):
            if groups["name"] not in classes:
                errors.append(f"line {number}: class {groups['name']!r} is not defined")
            errors += [
                f"line {number}: class names an unknown node {name!r}"
                for name in groups["ids"].split(",")
                if name not in nodes
            ]
    return errors


def _label_errors(label: str, *, number: int) -> list[str]:
    errors = []
    if not label.strip():
        errors.append(f"line {number}: empty label")
    bare = _ENTITY.sub("", label)
    for char in "#<>|`":
        if char in bare:
            errors.append(f"line {number}: {char!r} in a label must be an entity code")
    return errors


def _timeline(body: list[str]) -> list[str]:
    errors = []
    for number, raw in enumerate(body, start=2):
        line = raw.strip()
        if line.startswith("title "):
            if re.search(r"[#;]", line):
                errors.append(f"line {number}: a title cannot hold '#' or ';'")
            continue
        if line.startswith("section "):
            if ":" in line or "#" in line:
                errors.append(f"line {number}: a section cannot hold ':' or '#'")
            continue
        period, sep, events = line.partition(" : ")
        if not sep:
            errors.append(f"line {number}: a period needs ' : ' and at least one event")
            continue
        if not period.strip() or re.search(r"[:#]", period):
            errors.append(f"line {number}: a period cannot be empty or hold ':' or '#'")
        for event in events.split(" : "):
            if not event.strip() or event.strip().startswith("#"):
                errors.append(f"line {number}: an empty event, or one read as a comment")
            if re.search(r":\s", event + " ") or event.rstrip().endswith(":"):
                errors.append(f"line {number}: ': ' inside an event starts another one")
    return errors
