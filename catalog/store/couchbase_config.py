"""Where a Couchbase store connects: its URL, credentials and keyspace defaults.

``couchbase[s]://[user:pass@]host[,host2][?bucket=..&scope=..&connect_timeout=..]``
(also ``kv_timeout`` and ``query_timeout``, in seconds); what
the URL leaves out comes from Django settings when configured (COUCHBASE_USERNAME,
COUCHBASE_PASSWORD, CATALOG_BUCKET, CATALOG_SCOPE), else from the same environment
variables. Other URL parameters go to the SDK's connection string.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from catalog.store.base import InvalidArgument, Keyspace, StoreUnavailable
from catalog.store.couchbase_support import error_message, map_error

# How long opening the store waits for the KV and Query services, unless the URL says.
CONNECT_TIMEOUT_S = 30.0
# Default time limit of one key-value operation and of one SQL++ statement.
KV_TIMEOUT_S = 10.0
QUERY_TIMEOUT_S = 75.0
_TIMEOUTS = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "kv_timeout": KV_TIMEOUT_S,
    "query_timeout": QUERY_TIMEOUT_S,
}

# URL parameters the store consumes; every other one is passed on to the SDK's connstr.
_OWN_PARAMS = {"bucket", "scope", "username", "user", "password", *_TIMEOUTS}


@dataclass
class StoreConfig:
    """What a store URL resolves to: SDK connection string, credentials and keyspace."""

    connstr: str
    username: str
    password: str = field(repr=False)
    bucket: str = "ml"
    scope: str = "catalog"
    connect_timeout: float = CONNECT_TIMEOUT_S
    kv_timeout: float = KV_TIMEOUT_S
    query_timeout: float = QUERY_TIMEOUT_S


def _defaults() -> dict[str, str]:
    """Return username/password/bucket/scope from Django settings if configured, else env."""
    env = {
        "username": os.environ.get("COUCHBASE_USERNAME", "catalog"),
        "password": os.environ.get("COUCHBASE_PASSWORD", ""),
        "bucket": os.environ.get("CATALOG_BUCKET", "ml"),
        "scope": os.environ.get("CATALOG_SCOPE", "catalog"),
    }
    try:
        from django.conf import settings

        if not settings.configured:
            return env
        return {
            "username": getattr(settings, "COUCHBASE_USERNAME", env["username"]),
            "password": getattr(settings, "COUCHBASE_PASSWORD", env["password"]),
            "bucket": getattr(settings, "CATALOG_BUCKET", env["bucket"]),
            "scope": getattr(settings, "CATALOG_SCOPE", env["scope"]),
        }
    except ImportError:
        return env


def parse_url(url: str) -> StoreConfig:
    """Return the config named by ``couchbase[s]://[user:pass@]host[,host2][?bucket=..]``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("couchbase", "couchbases"):
        raise InvalidArgument(f"not a Couchbase URL: {url!r}")
    rest, _, fragment = rest.partition("#")
    hostpart, _, query = rest.partition("?")
    hostpart = hostpart.rstrip("/")
    userinfo = ""
    if "@" in hostpart:
        userinfo, hostpart = hostpart.rsplit("@", 1)
    if not hostpart:
        raise InvalidArgument(f"Couchbase URL needs a host: {url!r}")
    params = dict(parse_qsl(query, keep_blank_values=True))
    values = _defaults()
    if userinfo:
        user, _, password = userinfo.partition(":")
        values["username"] = unquote(user)
        if password:
            values["password"] = unquote(password)
    for name in ("username", "password", "bucket", "scope"):
        if params.get(name):
            values[name] = params[name]
    if params.get("user"):
        values["username"] = params["user"]
    for name in ("bucket", "scope"):
        Keyspace.parse(values[name] if name == "bucket" else f"b.{values[name]}.c")
    extra = {k: v for k, v in params.items() if k not in _OWN_PARAMS}
    connstr = f"{scheme}://{hostpart}" + (f"?{urlencode(extra)}" if extra else "")
    timeouts: dict[str, float] = {}
    for name, default in _TIMEOUTS.items():
        try:
            timeouts[name] = float(params.get(name) or default)
        except ValueError:
            raise InvalidArgument(f"{name} must be a number of seconds") from None
        if not 0 < timeouts[name] < 3600:
            raise InvalidArgument(f"{name} must be between 0 and 3600 seconds")
    return StoreConfig(
        connstr,
        values["username"],
        values["password"],
        values["bucket"],
        values["scope"],
        **timeouts,
    )


def connect(config: StoreConfig, url: str) -> Any:
    """Return an SDK Cluster for ``config``, its bucket open and KV and Query ready.

    ``url`` (without the password) names the cluster in errors: InvalidArgument for bad
    settings, StoreUnavailable when the cluster does not answer in connect_timeout.
    """
    from couchbase.auth import PasswordAuthenticator
    from couchbase.cluster import Cluster
    from couchbase.diagnostics import ServiceType
    from couchbase.options import ClusterOptions, ClusterTimeoutOptions, WaitUntilReadyOptions

    options = ClusterOptions(
        PasswordAuthenticator(config.username, config.password),
        timeout_options=ClusterTimeoutOptions(
            bootstrap_timeout=timedelta(seconds=config.connect_timeout),
            kv_timeout=timedelta(seconds=config.kv_timeout),
            query_timeout=timedelta(seconds=config.query_timeout),
        ),
    )
    try:
        cluster = Cluster(config.connstr, options)
        cluster.bucket(config.bucket)  # opens the bucket: KV is ready only then
        cluster.wait_until_ready(
            timedelta(seconds=config.connect_timeout),
            WaitUntilReadyOptions(service_types=[ServiceType.KeyValue, ServiceType.Query]),
        )
    except Exception as e:
        if not type(e).__module__.startswith("couchbase"):
            raise
        if isinstance(map_error(e), InvalidArgument):
            raise InvalidArgument(
                f"invalid Couchbase connection settings ({url}): {error_message(e)}"
            ) from None
        raise StoreUnavailable(
            f"cannot connect to Couchbase at {url}: {error_message(e)}"
        ) from None
    return cluster
