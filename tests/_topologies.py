"""Real Redis topologies for the test suite: standalone, Sentinel group, Cluster."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis
from redis.sentinel import Sentinel

from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

_CLIENTS: dict[int, redis.Redis] = {}


def node(port: int) -> redis.Redis:
    """A cached admin client for one server (closed by ``close_clients``)."""
    if port not in _CLIENTS:
        _CLIENTS[port] = redis.Redis(port=port, decode_responses=True, socket_timeout=2)
    return _CLIENTS[port]


def close_clients() -> None:
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()


def wait_until(predicate, timeout: float = 120.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns a true value (returned); ``timeout`` is only the bound of a
    wait that would hang, scaled by ``$SESSIONKIT_TIMEOUT_SCALE`` for loaded machines."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # servers are coming up or failing over: keep polling
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; last error: {last_exc!r}")


def _known_ports(port: int) -> set[int]:
    """Ports of the nodes that server ``port`` knows, past the MEET handshake."""
    nodes = node(port).cluster("nodes")
    return {int(addr.rsplit(":", 1)[1]) for addr, info in nodes.items() if "handshake" not in info["flags"]}


def _meet_all(servers: list[ServerProcess]) -> bool:
    """True once every server knows all the others; otherwise MEET each missing pair again."""
    ports = {s.port for s in servers}
    done = True
    for proc in servers:
        missing = ports - _known_ports(proc.port)
        for port in missing:
            node(proc.port).execute_command("CLUSTER MEET", "127.0.0.1", port)
        done = done and not missing
    return done


@dataclass
class SentinelGroup:
    """One master, one replica, three sentinels watching ``service_name``."""

    service_name: str = "mymaster"
    servers: list[ServerProcess] = field(default_factory=list)
    sentinels: list[ServerProcess] = field(default_factory=list)

    def start(self) -> None:
        # Each server is listed before it starts, so that cleanup() ends it whatever fails next.
        master = ServerProcess()
        self.servers = [master]
        master.start()
        replica = ServerProcess(extra_config=[f"replicaof 127.0.0.1 {master.port}"])
        self.servers.append(replica)
        replica.start()
        for _ in range(3):
            sentinel = ServerProcess(
                sentinel=True,
                extra_config=[
                    f"sentinel monitor {self.service_name} 127.0.0.1 {master.port} 2",
                    # A loaded machine stalls servers for a second or more: scaled, so that the
                    # sentinels do not fail over (or flap) on a stall instead of a kill.
                    f"sentinel down-after-milliseconds {self.service_name} {int(scaled(1.0) * 1000)}",
                    f"sentinel failover-timeout {self.service_name} {int(scaled(5.0) * 1000)}",
                    f"sentinel parallel-syncs {self.service_name} 1",
                ],
            )
            self.sentinels.append(sentinel)
            sentinel.start()
        client = node(replica.port)
        wait_until(lambda: client.info("replication")["master_link_status"] == "up", what="replica sync")
        wait_until(
            lambda: all(
                int(node(s.port).sentinel_master(self.service_name)["num-other-sentinels"]) == 2
                and int(node(s.port).sentinel_master(self.service_name)["num-slaves"]) == 1
                for s in self.sentinels
            ),
            what="sentinels to discover each other and the replica",
        )

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.sentinels]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service_name}"

    def master_port(self) -> int:
        sentinel = Sentinel(self.sentinel_addresses, socket_timeout=1)
        try:
            _host, port = sentinel.discover_master(self.service_name)
        finally:
            for s in sentinel.sentinels:
                s.close()
        return int(port)

    def kill_master_and_wait_for_failover(self, timeout: float = 180.0) -> int:
        """SIGKILL the current master; return the port of the replica the sentinels promoted.

        The killed server is then restarted; the sentinels turn it into a replica of the new
        master, so the group is whole again for the next test.
        """
        old = self.master_port()
        victim = next(s for s in self.servers if s.port == old)
        victim.stop()

        def promoted() -> int | None:
            port = self.master_port()
            if port == old:
                return None
            role = node(port).info("replication")["role"]
            return port if role == "master" else None

        new = wait_until(promoted, timeout=timeout, interval=0.2, what="sentinel failover")
        # Restart the old master as a replica of the new one: waiting for the sentinels to demote a
        # server that comes back claiming to be master can take minutes on a loaded machine.
        victim.extra_config = [line for line in victim.extra_config if not line.startswith("replicaof ")]
        victim.extra_config.append(f"replicaof 127.0.0.1 {new}")
        victim.start()
        wait_until(
            lambda: node(new).info("replication").get("connected_slaves", 0) >= 1
            and node(victim.port).info("replication").get("master_link_status") == "up",
            timeout=timeout, what="old master to rejoin as a replica",
        )
        return int(new)

    def cleanup(self) -> None:
        close_clients()
        for proc in self.sentinels + self.servers:
            proc.cleanup()


@dataclass
class Cluster:
    """A Redis Cluster of three masters, each with one replica, built with CLUSTER MEET/ADDSLOTSRANGE."""

    masters: list[ServerProcess] = field(default_factory=list)
    replicas: list[ServerProcess] = field(default_factory=list)

    def start(self) -> None:
        # The node timeout also bounds a MEET handshake: on a loaded machine 2 s can pass before the
        # other node answers, and the handshake is then dropped. Scale it, and re-MEET until known.
        timeout_ms = int(scaled(2.0) * 1000)
        conf = ["cluster-enabled yes", f"cluster-node-timeout {timeout_ms}", "cluster-require-full-coverage no"]
        servers = [ServerProcess(extra_config=[*conf, "cluster-config-file nodes.conf"]) for _ in range(6)]
        self.masters, self.replicas = servers[:3], servers[3:]  # listed first: cleanup() ends them all
        for proc in servers:
            proc.start()
        per = 16384 // 3
        ranges = [(0, per - 1), (per, 2 * per - 1), (2 * per, 16383)]
        for proc, (lo, hi) in zip(self.masters, ranges):
            node(proc.port).execute_command("CLUSTER ADDSLOTSRANGE", lo, hi)
        wait_until(lambda: _meet_all(servers), interval=1.0, what="cluster gossip")
        for master, replica in zip(self.masters, self.replicas):
            node_id = node(master.port).execute_command("CLUSTER MYID")
            wait_until(
                lambda r=replica, nid=node_id: node(r.port).execute_command("CLUSTER REPLICATE", nid),
                what="replica attach",
            )
        wait_until(
            lambda: all(node(n.port).cluster("info")["cluster_state"] == "ok" for n in servers),
            what="cluster_state:ok",
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.masters[0].port}/0"

    def client(self) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.masters[0].port)

    def cleanup(self) -> None:
        close_clients()
        for proc in self.masters + self.replicas:
            proc.cleanup()
