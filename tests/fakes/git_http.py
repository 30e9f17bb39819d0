"""Serve a bare repo over git's smart HTTP protocol by running `git http-backend` as CGI.

Used by the fake GitHub so that a clone and a push go over http with the credential in
an `Authorization: Basic` header, as they do against github.com with `x-access-token`.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Container
from pathlib import Path

from werkzeug.wrappers import Request, Response

GIT_USER = "x-access-token"


def basic_token(request: Request) -> str | None:
    """The token of an `Authorization: Basic x-access-token:<token>` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return token if user == GIT_USER else None


def serve_git(request: Request, *, remote: Path, suffix: str, tokens: Container[str]) -> Response:
    """Answer one smart-HTTP request (suffix: `/info/refs`, `/git-upload-pack`, ...)."""
    token = basic_token(request)
    if token is None or token not in tokens:
        return Response(
            "Authentication failed\n",
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="GitHub"'},
        )
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")},
        "GIT_PROJECT_ROOT": str(remote.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "PATH_INFO": f"/{remote.name}{suffix}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string.decode(),
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "REMOTE_USER": GIT_USER,
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    if request.headers.get("Content-Encoding"):
        env["HTTP_CONTENT_ENCODING"] = request.headers["Content-Encoding"]
    if request.headers.get("Git-Protocol"):
        env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
    body = request.get_data()
    env["CONTENT_LENGTH"] = str(len(body))
    done = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False, timeout=60
    )
    head, _, payload = done.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = done.stdout.partition(b"\n\n")
    status = 200
    headers = {}
    for line in head.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return Response(payload, status=status, headers=headers)
