"""Logs: plain text by default, JSON lines on request, and no secret ever in either."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.ops.logs import RedactingFilter, setup_logging

PLANTED = "s3cr3t-planted-value-42"
TOKEN_SHAPED = "ghp_" + "A1b2C3d4E5f6G7h8I9j0"


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def test_json_lines_parse_and_carry_their_fields() -> None:
    stream = io.StringIO()
    setup_logging("json", stream=stream)
    logging.getLogger("reconciler.test").info(
        "moved %s to %s", "ray-pred", "cloud", extra={"group": "ray-pred", "moves": 1}
    )
    [line] = lines(stream)
    record = json.loads(line)
    assert record["message"] == "moved ray-pred to cloud"
    assert record["level"] == "info"
    assert record["logger"] == "reconciler.test"
    assert record["group"] == "ray-pred" and record["moves"] == 1
    assert dt.datetime.fromisoformat(record["time"]).tzinfo is not None


def test_no_planted_secret_reaches_a_json_line() -> None:
    stream = io.StringIO()
    setup_logging("json", stream=stream, secrets=[PLANTED])
    log = logging.getLogger("reconciler.test")
    log.warning("push failed with header Authorization: Bearer %s", PLANTED)
    log.info("token in the message itself: " + TOKEN_SHAPED)
    log.info("in a field", extra={"detail": f"x-access-token:{PLANTED}"})
    try:
        raise RuntimeError(f"remote said {PLANTED}")
    except RuntimeError:
        log.exception("pass failed")
    text = stream.getvalue()
    records = [json.loads(line) for line in lines(stream)]
    assert len(records) == 4
    assert PLANTED not in text and TOKEN_SHAPED not in text
    assert records[0]["message"] == "push failed with header Authorization: Bearer ***"
    assert records[2]["detail"] == "x-access-token:***"
    assert "RuntimeError: remote said ***" in records[3]["exception"]


def test_text_is_the_default_and_is_redacted_too() -> None:
    stream = io.StringIO()
    redacting = setup_logging(stream=stream)
    redacting.add([PLANTED])  # a secret learned later (a refreshed App token)
    logging.getLogger("reconciler.test").info("using %s", PLANTED)
    [line] = lines(stream)
    assert line.endswith("INFO reconciler.test: using ***")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_setting_up_twice_keeps_one_handler() -> None:
    setup_logging("json", stream=io.StringIO())
    setup_logging("text", stream=io.StringIO())
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "placement-reconciler"]
    assert len(ours) == 1


def test_short_strings_are_not_masked() -> None:
    assert RedactingFilter(["abc", ""]).redact("abc abc") == "abc abc"


def test_run_with_log_format_json_prints_only_json_lines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_global_git: None,
) -> None:
    from reconciler.demo import DEMO_DIR, build_fleet_repo

    repo, _ = build_fleet_repo(tmp_path / "work", when=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED)
    out = io.StringIO()
    code = main(
        [
            "run",
            "--repo",
            str(repo),
            "--status",
            str(DEMO_DIR / "snapshots"),
            "--mode",
            "dry-run",
            "--now",
            "2026-11-28T12:10:00Z",
            "--log-format",
            "json",
        ],
        out=out,
    )
    err = capsys.readouterr().err
    assert code == 0
    assert out.getvalue() == ""  # with json, the report is a log record too
    records = [json.loads(line) for line in err.splitlines() if line]
    report = next(r for r in records if r.get("event") == "pass")
    assert "ray-pred on onprem: MOVE" in report["message"]
    assert report["moves"] == 1 and report["failed"] == 0
    assert PLANTED not in err
