"""Which backend a Redis URL gets: a standalone server, or a Redis Cluster.

`?cluster=yes` (or `?addr=host:port`, more seed nodes as go-redis reads them) makes it a
cluster, `?cluster=no` a standalone server; otherwise a `redis://` or `rediss://` server is
asked (INFO cluster) whether it is a cluster node, and said so once under `-v`.
"""

from __future__ import annotations

import logging
import sys

from kvredis.backend import redis
from kvredis.backend.base import Backend, BackendError
from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import ClusterOptions, check_url, cluster_options, redact

log = logging.getLogger("kvredis")
_CLUSTER_ENABLED = b"cluster_enabled:1"


def open_backend(url: str, settings: ConnectionSettings, *, max_value_bytes: int) -> Backend:
    """A connected backend for `url` (checked with a round trip, so a wrong URL fails
    here); raises `BackendError` when the server cannot be used, `UrlError` for a bad URL."""
    options = cluster_options(check_url(url))
    if options.mode:
        return _cluster_connect(options, settings, max_value_bytes)
    standalone = redis.connect(options.url, settings, max_value_bytes=max_value_bytes)
    if options.mode is False or options.url.startswith("unix:"):
        return standalone
    try:
        is_cluster = _CLUSTER_ENABLED in standalone.info(b"cluster")
    except BackendError as exc:
        # INFO may be renamed or forbidden (managed services do): take it as standalone.
        log.info("cannot tell whether %s is a cluster node (%s)", standalone.display_url, exc)
        is_cluster = False
    if not is_cluster:
        return standalone
    standalone.close()
    log.info(
        "%s is a Redis Cluster node: using the cluster backend (?cluster=no turns this off)",
        redact(url),
    )
    return _cluster_connect(options, settings, max_value_bytes)


def is_cluster(backend: Backend) -> bool:
    # Not loaded means no cluster backend was ever made, so this one is not one.
    cluster = sys.modules.get(_CLUSTER_MODULE)
    return cluster is not None and isinstance(backend, cluster.ClusterBackend)


_CLUSTER_MODULE = "kvredis.backend.cluster"


def _cluster_connect(
    options: ClusterOptions, settings: ConnectionSettings, max_value_bytes: int
) -> Backend:
    """The cluster backend, imported when a cluster is met: redis-py's cluster client takes
    some 70 ms to import, which every `kvredis run` on a single server would pay."""
    from kvredis.backend import cluster  # noqa: PLC0415

    return cluster.connect(options, settings, max_value_bytes=max_value_bytes)
