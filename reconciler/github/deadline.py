"""One time limit for the GitHub part of a pass, across all of its requests.

A GitHub that accepts connections and never answers used to hold a pass for minutes:
PyGithub's retry (ten attempts) times its per-request timeout (15 s). A `Deadline` is
started when the pass first talks to GitHub; every request checks it before it is sent
(`DeadlineAuth`), no retry starts or waits past it (`DeadlineRetry`), and no single
request waits longer than the whole deadline (`request_timeout`). So the GitHub part of
a pass ends at most one request timeout after the deadline.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any

import requests
from github import GithubRetry
from urllib3.exceptions import MaxRetryError

from reconciler.core.config import format_duration

PER_REQUEST_TIMEOUT = 15  # seconds: PyGithub's own default


class DeadlinePassed(requests.exceptions.Timeout):
    """The pass's time for GitHub is over: the request is not sent (or not retried)."""


class Deadline:
    """The end of a pass's time for GitHub, on a monotonic clock that tests inject."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends: float | None = None

    def restart(self) -> None:
        """Start the deadline again (each pass does when it first talks to GitHub)."""
        self._ends = self._clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left; a deadline never started starts now (a one-off command)."""
        if self._ends is None:
            self.restart()
        assert self._ends is not None
        return self._ends - self._clock()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    @property
    def message(self) -> str:
        return f"GitHub did not answer within {format_duration(dt.timedelta(seconds=self.seconds))}"

    def check(self) -> None:
        """Raise DeadlinePassed when the time is over."""
        if self.passed:
            raise DeadlinePassed(self.message)

    def request_timeout(self) -> int:
        """The per-request timeout: PyGithub's default, never longer than the deadline."""
        return max(1, min(PER_REQUEST_TIMEOUT, math.ceil(self.seconds)))


class DeadlineAuth:
    """Mixed into an auth: every API request checks the deadline before it is sent.

    PyGithub asks its auth for the Authorization header before each request, and offers
    no other hook there; the check rides on that call.
    """

    deadline: Deadline | None = None

    def authentication(self, headers: dict[str, Any]) -> None:
        if self.deadline is not None:
            self.deadline.check()
        super().authentication(headers)  # type: ignore[misc]


class DeadlineRetry(GithubRetry):
    """PyGithub's retry (rate limits, 5xx, broken connections) that stops at the deadline:
    no retry is started after it, and no wait before a retry would end past it."""

    def __init__(self, *, deadline: Deadline, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> DeadlineRetry:
        kw["deadline"] = self.deadline
        return super().new(**kw)

    def increment(self, *args: Any, **kwargs: Any) -> DeadlineRetry:
        if self.deadline.passed:
            url = kwargs.get("url") or (args[1] if len(args) > 1 else "")
            pool = kwargs.get("_pool")
            raise MaxRetryError(pool, url, DeadlinePassed(self.deadline.message))  # type: ignore[arg-type]
        return super().increment(*args, **kwargs)  # type: ignore[return-value]

    def sleep(self, response: Any = None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        if wait >= self.deadline.remaining():
            raise MaxRetryError(None, "", DeadlinePassed(self.deadline.message))  # type: ignore[arg-type]
        super().sleep(response)
