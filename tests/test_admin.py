"""``sessionkit sessions stats|revoke`` against a real server (and a cluster)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _topologies import Cluster

from sessionkit import RedisStore
from sessionkit._admin import collect_stats


def make_sessions(store: RedisStore, n: int, user: str | None = None) -> list[str]:
    cookies = []
    for i in range(n):
        s = store.open(None)
        s["blob"] = "x" * (100 * (i + 1))
        if user:
            s.bind_user(user)
        cookies.append(store.save(s).value)
    return cookies


def sk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sessionkit", *args], capture_output=True, text=True, check=False)


def test_stats_counts_sizes_and_ttls(redis_url: str, key_prefix: str, redis_client) -> None:
    store = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix, idle_timeout=3600)
    make_sessions(store, 12)
    out = sk("sessions", "stats", "--url", redis_url, "--prefix", key_prefix, "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["sessions"] == 12
    assert stats["bytes"]["max"] > stats["bytes"]["min"] > 100
    assert 3500 < stats["ttl_seconds"]["min"] <= stats["ttl_seconds"]["max"] <= 3600
    text = sk("sessions", "stats", "--url", redis_url, "--prefix", key_prefix)
    assert "sessions under" in text.stdout and ": 12" in text.stdout


def test_stats_do_not_count_the_marker_a_regenerate_leaves(redis_url: str, key_prefix: str, redis_client) -> None:
    store = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix, idle_timeout=3600)
    (cookie,) = make_sessions(store, 1)
    session = store.open(cookie)
    session.regenerate()
    store.save(session)
    assert len(list(redis_client.scan_iter(match=f"{key_prefix}s:*"))) == 2  # the session and the marker
    assert collect_stats(redis_client, key_prefix)["sessions"] == 1


@pytest.mark.parametrize("command", [["stats"], ["revoke", "--user", "ann"]])
def test_an_invalid_url_is_a_one_line_error_naming_the_option(command: list[str]) -> None:
    out = sk("sessions", *command, "--url", "redis://u:hunter2@127.0.0.1:abc/0")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "in --url" in out.stderr and "'abc'" in out.stderr
    assert "hunter2" not in out.stderr and "u:***@" in out.stderr


def test_redis_down_is_a_one_line_error_without_web_advice() -> None:
    out = sk("sessions", "revoke", "--user", "ann", "--url", "redis://127.0.0.1:1/0")  # nothing on port 1
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "Redis is unreachable" in out.stderr and "Check the Redis URL" in out.stderr
    for advice in ("503", "degraded", "may still have been applied"):  # none applies to a refused read
        assert advice not in out.stderr


def test_revoke_from_the_command_line(redis_url: str, key_prefix: str) -> None:
    store = RedisStore(redis_url, secret_keys="s" * 20, key_prefix=key_prefix)
    cookies = make_sessions(store, 3, user="ann")
    out = sk("sessions", "revoke", "--user", "ann", "--url", redis_url, "--prefix", key_prefix)
    assert out.returncode == 0 and "ended 3 session(s)" in out.stdout
    assert all(dict(store.open(c)) == {} for c in cookies)


def test_missing_url_and_bad_url_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSIONKIT_REDIS_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert sk("sessions", "stats").returncode == 2
    out = sk("sessions", "stats", "--url", "http://nope")
    assert out.returncode == 2 and "unsupported scheme http://" in out.stderr


@pytest.mark.cluster
def test_stats_scan_every_cluster_primary(redis_cluster: Cluster) -> None:
    url = f"redis+cluster://127.0.0.1:{redis_cluster.masters[0].port}"
    store = RedisStore(url, secret_keys="s" * 20, key_prefix="statstest:")
    make_sessions(store, 30)
    assert collect_stats(store.client, "statstest:")["sessions"] == 30


def test_stats_and_check_server_policy_warn_about_eviction_and_no_persistence() -> None:
    import redis

    from sessionkit import check_server_policy
    from sessionkit.demo._servers import ServerProcess

    server = ServerProcess(extra_config=["maxmemory-policy allkeys-lru"])  # and no persistence
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        problems = check_server_policy(client)
        assert len(problems) == 2
        assert "allkeys-lru" in problems[0] and "logging users out" in problems[0]
        assert "persistence is off" in problems[1]
        out = sk("sessions", "stats", "--url", server.url, "--json")
        assert out.returncode == 0 and "warning: maxmemory-policy is allkeys-lru" in out.stderr
        assert json.loads(out.stdout)["warnings"] == problems
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("appendonly", "yes")
        assert check_server_policy(client) == []
        assert "warning" not in sk("sessions", "stats", "--url", server.url).stderr
        client.close()
    finally:
        server.cleanup()
