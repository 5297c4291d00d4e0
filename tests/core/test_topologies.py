"""The store on every supported topology: Unix socket, ACL user, TLS, Sentinel failover, Cluster."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _topologies import Cluster, SentinelGroup, node, wait_until

from sessionkit import RedisStore, SessionBackendUnavailable
from sessionkit.demo._servers import ServerProcess

SECRET = "topology-secret-0123456789"


def roundtrip(store: RedisStore) -> None:
    s = store.open(None)
    s["user"] = "ann"
    cookie = store.save(s).value
    s = store.open(cookie)
    s["cart"] = [1]
    store.save(s)
    assert dict(store.open(cookie)) == {"user": "ann", "cart": [1]}


@pytest.fixture
def private_server(request: pytest.FixtureRequest) -> Iterator:
    procs: list[ServerProcess] = []

    def start(**kwargs) -> ServerProcess:
        proc = ServerProcess(**kwargs)
        procs.append(proc)
        proc.start()
        return proc

    yield start
    for proc in procs:
        proc.cleanup()


def test_unix_socket(private_server, tmp_path: Path) -> None:
    sock = tmp_path / "redis.sock"
    private_server(extra_config=[f"unixsocket {sock}", "unixsocketperm 700"])
    store = RedisStore(f"unix://{sock}?db=0", secret_keys=SECRET)
    roundtrip(store)
    store.close()


def test_acl_user_and_wrong_password(private_server) -> None:
    proc = private_server(extra_config=["user sessions on >s3cret-pass ~sessionkit:* +@all", "user default off"])
    store = RedisStore(f"redis://sessions:s3cret-pass@127.0.0.1:{proc.port}/0", secret_keys=SECRET)
    roundtrip(store)
    store.close()
    bad = RedisStore(f"redis://sessions:wrong@127.0.0.1:{proc.port}/0", secret_keys=SECRET)
    s = bad.open(None)
    s["a"] = 1
    with pytest.raises(SessionBackendUnavailable, match="AuthenticationError"):
        bad.save(s)
    assert "wrong" not in repr(bad)
    bad.close()


def _certificates(directory: Path) -> dict[str, str]:
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.crt", "srv.key", "srv.csr", "srv.crt"))
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=sessionkit-test-ca",
        "-keyout", str(ca_key), "-out", str(ca))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "1", "-out", str(cert), "-extfile", str(ext))
    return {"cert": str(cert), "key": str(key), "ca": str(ca)}


def test_tls(private_server, tmp_path: Path) -> None:
    """rediss:// with certificate verification (needs a server binary built with TLS)."""
    proc = private_server(tls=_certificates(tmp_path))
    store = RedisStore(proc.url + "&ssl_cert_reqs=required", secret_keys=SECRET)
    roundtrip(store)
    store.close()


@pytest.mark.sentinel
def test_sentinel_failover_keeps_acknowledged_sessions(sentinel_group: SentinelGroup) -> None:
    store = RedisStore(sentinel_group.url, secret_keys=SECRET, wait_replicas=1)
    cookies = []
    for i in range(20):
        s = store.open(None)
        s["n"] = i
        cookies.append(store.save(s).value)  # acknowledged by the replica (WAIT 1)
    sentinel_group.kill_master_and_wait_for_failover()
    # The same store object follows the new master.
    assert [dict(store.open(c)) for c in cookies] == [{"n": i} for i in range(20)]
    plain = RedisStore(sentinel_group.url, secret_keys=SECRET)  # writes to the new master
    s = plain.open(cookies[0])
    s["after"] = True
    plain.save(s)
    assert dict(store.open(cookies[0])) == {"n": 0, "after": True}
    store.close()
    plain.close()


@pytest.mark.cluster
def test_cluster_spreads_sessions_and_revokes_across_slots(redis_cluster: Cluster) -> None:
    store = RedisStore(f"redis+cluster://127.0.0.1:{redis_cluster.masters[0].port}", secret_keys=SECRET,
                       key_prefix="clustertest:")
    cookies = []
    for i in range(60):
        s = store.open(None)
        s["n"] = i
        s.bind_user("ann" if i % 2 else "bob")
        cookies.append(store.save(s).value)
    per_master = [len(list(node(m.port).scan_iter(match="clustertest:s:*"))) for m in redis_cluster.masters]
    assert all(n > 5 for n in per_master), per_master
    assert sum(per_master) == 60
    assert len(store.sessions_of("ann")) == 30
    assert store.revoke_user("ann") == 30
    assert [dict(store.open(c)) for c in cookies[:4]] == [{"n": 0}, {}, {"n": 2}, {}]
    store.close()


@pytest.mark.cluster
def test_cluster_manual_failover_is_followed(redis_cluster: Cluster) -> None:
    store = RedisStore(f"redis+cluster://127.0.0.1:{redis_cluster.masters[0].port}", secret_keys=SECRET,
                       key_prefix="failovertest:")
    s = store.open(None)
    s["a"] = 1
    cookie = store.save(s).value
    ((owner, key),) = [
        (m, k) for m in redis_cluster.masters for k in node(m.port).scan_iter(match="failovertest:s:*")
    ]
    replica = next(
        r for r in redis_cluster.replicas
        if node(r.port).info("replication").get("master_port") == owner.port
    )
    wait_until(lambda: node(replica.port).info("replication")["master_link_status"] == "up", what="link")
    node(replica.port).execute_command("CLUSTER FAILOVER")
    wait_until(lambda: node(replica.port).info("replication")["role"] == "master", what="manual failover")
    s = store.open(cookie)  # the client gets MOVED and follows it
    s["b"] = 2
    store.save(s)
    assert dict(store.open(cookie)) == {"a": 1, "b": 2}
    assert node(replica.port).exists(key)
    # Keep the fixture's view true for the other tests: the replica is a master now.
    i, j = redis_cluster.masters.index(owner), redis_cluster.replicas.index(replica)
    redis_cluster.masters[i], redis_cluster.replicas[j] = replica, owner
    store.close()


def test_bad_urls_are_configuration_errors() -> None:
    from sessionkit import ConfigurationError

    for url in ("http://x", "redis+sentinel://h:1", "redis+sentinel://h:port/svc", "memcached://x"):
        with pytest.raises(ConfigurationError):
            RedisStore(url, secret_keys=SECRET)
    with pytest.raises(ConfigurationError, match="exactly one"):
        RedisStore(secret_keys=SECRET)
    with pytest.raises(ConfigurationError, match="exactly one"):
        RedisStore("redis://x", client=redis.Redis(), secret_keys=SECRET)
