"""Fixtures: two fake clusters (east, west) on 127.0.0.1 and a kubeconfig naming both."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reconciler.core.config import ClusterConfig

from .fake_apiserver import FakeApiServer, FakeFleet, start_servers, write_kubeconfig

TOKENS = {"east": "sekrit-east-0123456789abcdef", "west": "sekrit-west-fedcba9876543210"}


@pytest.fixture(scope="session")
def servers() -> Iterator[list[HTTPServer]]:
    """Two HTTP servers for the whole session: stopping one costs half a second."""
    started = list(start_servers(len(TOKENS)))
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def fleet(tmp_path: Path, servers: list[HTTPServer]) -> Iterator[FakeFleet]:
    """Two empty fake clusters and a kubeconfig with contexts ctx-east and ctx-west."""
    for server in servers:
        server.clear()
    clusters = {
        name: FakeApiServer(server, token=TOKENS[name])
        for name, server in zip(TOKENS, servers, strict=True)
    }
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig",
        {name: (fake.url, fake.token) for name, fake in clusters.items()},
    )
    yield FakeFleet(clusters=clusters, kubeconfig=kubeconfig)
    for server in servers:
        server.check_handler_errors()  # a crash in the fake must not pass for a 500


def cluster(name: str) -> ClusterConfig:
    """The fleet.yaml entry of a fake cluster."""
    return ClusterConfig(name=name, context=f"ctx-{name}")


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
