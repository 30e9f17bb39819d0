"""What went wrong talking to a cluster, as a short reason we write ourselves.

The client's exception text can quote request headers (a bearer token) or a response
body; a reason here is built only from the status code and the exception classes.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl

from kubernetes.client.exceptions import ApiException
from urllib3 import exceptions as http_errors

from reconciler.core.errors import ClusterReadError

log = logging.getLogger(__name__)


class ReadError(ClusterReadError):
    """A failed cluster read: `reason` is short and safe to show; 5xx and timeouts are retryable."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclasses.dataclass(frozen=True)
class Fault:
    """One failed request: its HTTP status (0 without one), reason and whether to retry it."""

    reason: str
    status: int = 0
    retryable: bool = False
    expired: bool = False  # 410 Gone on a continue: the list must restart

    def error(self) -> ReadError:
        """The fault as an exception to raise."""
        return ReadError(self.reason, retryable=self.retryable)


def describe_fault(error: BaseException, *, what: str, timeout: float, continuing: bool) -> Fault:
    """Classify an exception raised while sending a request or reading its body.

    `what` says what was being done ("listing pods"), `continuing` whether the request
    carried a continue token.
    """
    if isinstance(error, http_errors.MaxRetryError) and error.reason is not None:
        error = error.reason
    if isinstance(error, ApiException):
        return _http_fault(error, what=what, continuing=continuing)
    return _transport_fault(error, what=what, timeout=timeout, continuing=continuing)


def _http_fault(error: ApiException, *, what: str, continuing: bool) -> Fault:
    status = int(error.status or 0)
    if status == 0:
        # The client turns a TLS failure into an ApiException without a status.
        if _ssl_error(error) is not None or str(error.reason or "").startswith("SSLError"):
            return Fault(_tls_reason(error))
        return Fault(f"request failed {what}")
    if status == 401:
        return Fault("unauthorized (401): the cluster rejected the credentials", status=status)
    if status == 403:
        return Fault(f"forbidden (403): not allowed {what} (see deploy/rbac-reader.yaml)", status)
    if status == 404:
        if continuing:
            return Fault(f"list cut short {what}: the next page is gone (404)", status)
        return Fault(f"not found (404) {what}", status=status)
    if status == 410:
        return Fault(f"gone (410) {what}", status=status, expired=continuing)
    if status == 429:
        return Fault(f"too many requests (429) {what}", status=status)
    if 500 <= status <= 599:
        return Fault(f"server error ({status}) {what}", status=status, retryable=True)
    return Fault(f"HTTP {status} {what}", status=status)


def _transport_fault(error: BaseException, *, what: str, timeout: float, continuing: bool) -> Fault:
    after = f"after {timeout:g}s"
    if isinstance(error, http_errors.NameResolutionError):
        return Fault("unreachable: cannot resolve the API server's host name")
    if isinstance(error, http_errors.NewConnectionError):
        if _caused_by(error, ConnectionRefusedError):
            return Fault("unreachable: connection refused")
        return Fault("unreachable: cannot connect to the API server")
    if isinstance(error, http_errors.ConnectTimeoutError):
        return Fault(f"unreachable: connect timed out {after}", retryable=True)
    if isinstance(error, http_errors.ReadTimeoutError | TimeoutError):
        return Fault(f"timed out {after} {what}", retryable=True)
    if isinstance(error, http_errors.SSLError | ssl.SSLError):
        return Fault(_tls_reason(error))
    if isinstance(error, http_errors.ProtocolError | http_errors.DecodeError):
        return Fault(f"list cut short {what}: the connection closed mid-response")
    if isinstance(error, ConnectionRefusedError):
        return Fault("unreachable: connection refused")
    if isinstance(error, OSError):
        # strerror is the system's plain words ("Network is unreachable"), never request text.
        return Fault(f"unreachable: {error.strerror or 'the connection failed'}".lower())
    log.debug("read failed %s: %s", what, type(error).__name__)  # the class, for a bug report
    return Fault(f"read failed {what}: an unexpected error (details in the debug log)")


def _tls_reason(error: BaseException) -> str:
    found = _ssl_error(error)
    if isinstance(found, ssl.SSLCertVerificationError):
        return "TLS error: certificate verify failed"
    if found is not None and getattr(found, "reason", None):
        return f"TLS error: {str(found.reason).lower().replace('_', ' ')}"
    return "TLS error"


def _ssl_error(error: BaseException) -> ssl.SSLError | None:
    found = _caused_by(error, ssl.SSLError)
    return found if isinstance(found, ssl.SSLError) else None


def _caused_by(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of that kind in the chain of causes and contexts."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        pending += [current.__cause__, current.__context__]
        pending += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return None
