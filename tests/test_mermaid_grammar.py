"""The Mermaid grammar check itself: it accepts what Mermaid parses and refuses what it rejects.

Each case below was run once through mermaid 11.17.2's own parser (`mermaid.parse`, from
npm, under jsdom): the accepted ones parsed, the refused ones failed to. The check may be
stricter than Mermaid (a pipe inside a quoted label parses there; we write it as an entity
code anyway), never looser.
"""

from __future__ import annotations

import pytest

from tests.mermaid_grammar import check_mermaid, mermaid_blocks

FLOW_OK = """flowchart LR
    src["onprem (now)"]
    dst["cloud"]
    src ==>|"ray-pred: upgrade-stalled (make-before-break 1/2: copy)"| dst
    c1["edge #35;1"]
    src -.->|"no: short 6 CPU on the best node (e0)"| c1
    classDef target fill:#dafbe1,stroke:#1a7f37
    classDef other fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3
    class dst target
    class c1 other
"""
TIMELINE_OK = """timeline
    title Placement history (times in UTC)
    section ray-pred
        2026-11-28 12h10 : move onprem → cloud : upgrade-stalled : on cloud : pull request #12
"""


def test_what_we_write_keeps_to_the_grammar() -> None:
    assert check_mermaid(FLOW_OK) == []
    assert check_mermaid(TIMELINE_OK) == []


@pytest.mark.parametrize(
    ("diagram", "complaint"),
    [
        ('flowchart LR\n    a["x"]\n    end["y"]\n    a --> end\n', "reserved word"),
        ('flowchart LR\n    a["say "hi" now"]\n', "not a node, an edge or a class"),
        ("timeline\n    title T\n    section g\n        2026-11-28 12:10 : x\n", "period"),
        ("timeline\n    title T\n    section g: x\n        p : x\n", "section"),
    ],
)
def test_what_mermaid_rejects_is_refused(diagram: str, complaint: str) -> None:
    errors = check_mermaid(diagram)
    assert errors and any(complaint in error for error in errors), errors


@pytest.mark.parametrize(
    ("diagram", "complaint"),
    [
        ('flowchart LR\n    a["x"]\n    a --> b\n', "used before it is declared"),
        ('flowchart LR\n    a["<b>x</b>"]\n', "entity code"),
        ("sequenceDiagram\n    a->>b: hi\n", "unknown diagram"),
    ],
)
def test_house_rules_stricter_than_mermaid_are_kept(diagram: str, complaint: str) -> None:
    """Mermaid parses these (an undeclared node is made on the fly, HTML in a label is
    sanitized); we still refuse them: a label must render as the text it holds."""
    errors = check_mermaid(diagram)
    assert errors and any(complaint in error for error in errors), errors


def test_diagrams_are_found_in_markdown() -> None:
    text = f"intro\n\n```mermaid\n{FLOW_OK}```\n\ntext\n\n```mermaid\n{TIMELINE_OK}```\n"
    assert mermaid_blocks(text) == [FLOW_OK, TIMELINE_OK]
