"""One time limit for the GitHub part of a pass, across all of its requests.

PyGithub bounds each request (15 s) and retries up to ten times, so a GitHub that takes
connections and never answers held a pass for minutes. A `Deadline` starts when a pass
first talks to GitHub: no request is sent past it (`DeadlineAuth`), no retry starts or
waits past it (`DeadlineRetry`), and no request waits longer than the whole deadline.
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
        self.message = f"GitHub did not answer within {format_duration(dt.timedelta(0, seconds))}"
        self._clock = clock
        self._ends: float | None = None

    def restart(self) -> None:
        """Start the deadline again (each pass does when it first talks to GitHub)."""
        self._ends = self._clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left; a deadline never started starts now (a one-off command)."""
        if self._ends is None:
            self._ends = self._clock() + self.seconds
        return self._ends - self._clock()

    @property
    def passed(self) -> bool:
        """True once the time is over."""
        return self.remaining() <= 0

    def request_timeout(self) -> int:
        """The per-request timeout: PyGithub's default, never longer than the deadline."""
        return max(1, min(PER_REQUEST_TIMEOUT, math.ceil(self.seconds)))


class DeadlineAuth:
    """Mixed into a PyGithub auth, which is asked for its header before every request (the
    one hook there is): past the deadline, the request is not sent."""

    deadline: Deadline | None = None

    def authentication(self, headers: dict[str, Any]) -> None:
        if self.deadline is not None and self.deadline.passed:
            raise DeadlinePassed(self.deadline.message)
        super().authentication(headers)  # type: ignore[misc]


class DeadlineRetry(GithubRetry):
    """PyGithub's retry (rate limits, 5xx, broken connections) that neither starts a retry
    past the deadline nor waits for one that would start past it."""

    def __init__(self, *, deadline: Deadline, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> DeadlineRetry:
        return super().new(deadline=self.deadline, **kw)

    def sleep(self, response: Any = None) -> None:
        # urllib3 sleeps before every retry: what Retry-After asks for, else the backoff.
        asked = None
        if response is not None and self.respect_retry_after_header:
            asked = self.get_retry_after(response)
        if (self.get_backoff_time() if asked is None else asked) >= self.deadline.remaining():
            raise MaxRetryError(None, "", DeadlinePassed(self.deadline.message))  # type: ignore[arg-type]
        super().sleep(response)
