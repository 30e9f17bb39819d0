"""An API client for one cluster: a kubeconfig context (files merged as kubectl does) or in-cluster.

The kubeconfig is read by the official client, so bearer tokens, client certificates and
exec plugins work as it supports them. Failures become a `ConnectError` whose text is ours
(never the client's, which may quote a kubeconfig entry).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from reconciler.core.errors import ClusterReadError

IN_CLUSTER = "in-cluster"
DEFAULT_KUBECONFIG = "~/.kube/config"


# The client's loaders carry no annotations; these names give them the types they have.
_load_incluster: Callable[..., None] = config.load_incluster_config
_new_client: Callable[..., client.ApiClient] = config.new_client_from_config
_list_contexts: Callable[..., tuple[list[dict[str, Any]], Any]] = config.list_kube_config_contexts
close_client: Callable[[client.ApiClient], None] = client.ApiClient.close


class ConnectError(ClusterReadError):
    """A cluster's connection settings cannot be loaded; str() is a short, safe reason."""


def kubeconfig_files(kubeconfig: str | None = None) -> str:
    """The kubeconfig path list to read: --kubeconfig, else $KUBECONFIG, else ~/.kube/config.

    The result may name several files separated by os.pathsep; the client merges them as
    kubectl does (the first file to define a context, cluster or user wins). Read at call
    time: the client's own default is frozen when it is imported.
    """
    return kubeconfig or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG


def fresh_configuration() -> client.Configuration:
    """A client Configuration with urllib3's own retries off: the reader retries itself."""
    configuration = client.Configuration()
    # urllib3 would otherwise retry connects and read timeouts three times on its own,
    # multiplying the reader's bounded retries and blowing through the deadline.
    configuration.retries = False
    return configuration


def api_client_for(context: str, *, kubeconfig: str | None = None) -> client.ApiClient:
    """An ApiClient for a kubeconfig context, or for `in-cluster` the pod's service account."""
    if not context:
        raise ConnectError("no kubeconfig context set for this cluster in fleet.yaml")
    configuration = fresh_configuration()
    if context == IN_CLUSTER:
        try:
            _load_incluster(client_configuration=configuration)
        except ConfigException:
            raise ConnectError("in-cluster config unavailable (not running in a pod?)") from None
        return client.ApiClient(configuration=configuration)
    files = kubeconfig_files(kubeconfig)
    try:
        return _new_client(
            config_file=files,
            context=context,
            persist_config=False,  # never rewrite the user's kubeconfig files
            client_configuration=configuration,
        )
    except ConfigException:
        raise ConnectError(_config_problem(context, files)) from None
    except (OSError, ValueError, TypeError, KeyError):
        raise ConnectError(f"kubeconfig: context {context!r} cannot be loaded") from None


def _config_problem(context: str, files: str) -> str:
    try:
        contexts, _ = _list_contexts(config_file=files)
    except (ConfigException, OSError, ValueError, TypeError, KeyError):
        return f"kubeconfig: no usable configuration in {files}"
    names = {entry.get("name") for entry in contexts or () if isinstance(entry, dict)}
    if context not in names:
        return f"kubeconfig: no context {context!r} in {files}"
    return f"kubeconfig: context {context!r} is incomplete (cluster, user or credentials)"
