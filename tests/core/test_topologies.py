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


def replicated_session(store: RedisStore, **data: object) -> str:
    """A new session's cookie, once a write of it was acknowledged (``WAIT``): on a loaded machine the
    replica can miss WAIT's 200 ms, which is a 503 and no cookie, so the setup tries again."""

    def attempt() -> str:
        s = store.open(None)
        s.update(data)
        return store.save(s).value

    return wait_until(attempt, timeout=60, what="a write acknowledged by the replica")


@pytest.mark.sentinel
def test_sentinel_failover_keeps_acknowledged_sessions(sentinel_group: SentinelGroup) -> None:
    store = RedisStore(sentinel_group.url, secret_keys=SECRET, wait_replicas=1)
    cookies = [replicated_session(store, n=i) for i in range(20)]  # acknowledged by the replica (WAIT 1)
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


@pytest.mark.sentinel
def test_sentinel_failover_under_load_loses_no_acknowledged_write_or_logout(
    sentinel_group: SentinelGroup,
) -> None:
    """SENTINEL FAILOVER while writers and logouts run: the old master keeps accepting writes until
    it is demoted, then resyncs and throws them away. Nothing that was acknowledged may be among them."""
    import threading
    import time

    store = RedisStore(sentinel_group.url, secret_keys=SECRET, wait_replicas=1, key_prefix="fo:")
    counters = [replicated_session(store, n=0) for _ in range(8)]
    doomed = [replicated_session(store, user=f"u{i}") for i in range(60)]
    acked = [0] * len(counters)
    logged_out: list[str] = []
    after_switch = [0]
    stop, switched = threading.Event(), threading.Event()

    def writer(i: int) -> None:
        while not stop.is_set():
            try:
                s = store.open(counters[i])
                n = s["n"] + 1
                s["n"] = n
                if store.save(s).written:
                    acked[i] = n
                    if switched.is_set():
                        after_switch[0] += 1
            except SessionBackendUnavailable:
                time.sleep(0.05)  # 503: not acknowledged

    def logouts() -> None:
        for cookie in doomed:
            if stop.is_set():
                return
            try:
                s = store.open(cookie)
                s.destroy()
                if store.save(s).cookie == "delete":
                    logged_out.append(cookie)
            except SessionBackendUnavailable:
                pass
            time.sleep(0.2)

    old = sentinel_group.master_port()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(counters))]
    for t in threads:
        t.start()
    time.sleep(0.5)
    node(sentinel_group.sentinels[0].port).execute_command("SENTINEL FAILOVER", sentinel_group.service_name)
    threads.append(threading.Thread(target=logouts))
    threads[-1].start()
    try:
        wait_until(
            lambda: node(old).info("replication")["role"] == "slave"
            and node(old).info("replication")["master_link_status"] == "up",
            timeout=120, what="the old master to be demoted and resynced",
        )
        switched.set()
        wait_until(lambda: after_switch[0] >= 20, timeout=60, what="writes on the new master")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert sentinel_group.master_port() != old
    check = RedisStore(sentinel_group.url, secret_keys=SECRET, key_prefix="fo:")
    rolled_back = [(i, check.open(c).get("n"), acked[i]) for i, c in enumerate(counters)
                   if (check.open(c).get("n") or 0) < acked[i]]
    resurrected = [c for c in logged_out if dict(check.open(c))]
    assert rolled_back == [] and resurrected == [], (rolled_back, len(resurrected), len(logged_out))
    assert logged_out, "no logout was acknowledged during the test"
    store.close()
    check.close()


@pytest.mark.cluster
def test_cluster_new_session_on_a_dead_shard_retries_with_a_new_id(redis_cluster: Cluster, monkeypatch) -> None:
    from dataclasses import replace

    from sessionkit._cookie import new_session_id

    store = RedisStore(f"redis+cluster://127.0.0.1:{redis_cluster.masters[1].port}", secret_keys=SECRET,
                       key_prefix="deadshard:")
    dead = redis_cluster.masters[0]
    dead_replica = next(
        r for r in redis_cluster.replicas
        if node(r.port).info("replication").get("master_port") == dead.port
    )
    ids = [new_session_id() for _ in range(100)]
    on_dead = [i for i in ids if store.client.get_node_from_key(store.key(i)).port == dead.port]
    unlucky, lucky = on_dead[0], next(i for i in ids if i not in on_dead)
    issued = [lucky, unlucky]  # the random IDs the store will draw, controlled: first a dead shard's
    monkeypatch.setattr(store, "ctx", replace(store.ctx, new_id=issued.pop))
    dead_replica.stop()  # replica first: no failover can take over the slots
    dead.stop()
    try:
        s = store.open(None)
        s["a"] = 1
        result = store.save(s)  # the first ID's shard is down: one more try with another ID
        assert result.cookie == "set" and result.value.split(".")[0] == lucky and issued == []
        assert store.open(result.value)["a"] == 1
    finally:
        dead.start()
        dead_replica.start()
        wait_until(lambda: all(node(n.port).cluster("info")["cluster_state"] == "ok"
                               for n in redis_cluster.masters + redis_cluster.replicas),
                   timeout=120, what="the cluster to heal")
        store.close()


@pytest.mark.sentinel
def test_async_store_on_sentinel_uses_a_bounded_pool(sentinel_group: SentinelGroup) -> None:
    import asyncio

    from sessionkit import AsyncRedisStore

    async def main() -> list[object]:
        store = AsyncRedisStore(sentinel_group.url, secret_keys=SECRET, key_prefix="asent:", pool_size=5)

        async def request(i: int) -> None:
            s = await store.open(None)
            s["i"] = i
            assert (await store.open((await store.save(s)).value))["i"] == i

        results = await asyncio.gather(*(request(i) for i in range(100)), return_exceptions=True)
        assert store.client.connection_pool.max_connections == 5
        await store.aclose()
        return [r for r in results if r is not None]

    assert asyncio.run(main()) == []
