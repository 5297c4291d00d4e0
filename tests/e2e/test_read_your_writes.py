"""The replica-local cache behind a real round-robin nginx: read-your-writes across replicas, no lost
update, with the cache on (the default) in Flask, Starlette and Django.

Each framework runs three replicas of ``e2e._counter_app`` (one process each: gunicorn sync, or
uvicorn) behind nginx. One client, on one keep-alive connection to nginx, writes a new counter value
and then reads it back ``READS_PER_WRITE`` times; round-robin sends consecutive requests to
consecutive replicas. A replica serves a read from memory only when its previous request for this
session was a read and no write happened since, so with 1 write and 9 reads per cycle every read but
the first one on each replica after a write can come from memory, while the first reads on the two
replicas that did not write land on a replica that still holds the *previous* value: those are the
cross-replica read-after-write pairs, and a single one of them served from memory would be a stale
read. ``INFO commandstats`` (counted by Redis, not by the code under test) shows how many reads went
to Redis at all, so the proof cannot pass with the cache silently off.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from e2e._deploy import Deployment

from sessionkit.demo._children import scaled
from sessionkit.demo._servers import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FRAMEWORKS = ["flask", "starlette", "django"]
WRITES = 1700  # per framework; 2 cross-replica read-after-write pairs each: 3 x 3,400 = 10,200 pairs
READS_PER_WRITE = 9  # a cycle of 10 requests: the writer moves on by one replica every cycle
MAX_SECONDS = 900.0  # per framework, scaled; the loop ends early (and the test fails) past it
REQUEST_TIMEOUT = 15.0
TRACKING_NAME = "sessionkit-tracking"  # how a store's tracking connection shows in CLIENT LIST


@dataclass
class Answer:
    status: int
    body: Any
    upstream: str


@dataclass
class Client:
    """One browser: a cookie jar and one keep-alive connection to nginx (round-robin port)."""

    port: int
    jar: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())} if self.jar else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):  # nginx may close an idle keep-alive connection: reopen once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(REQUEST_TIMEOUT))
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2 or method != "GET":
                    return Answer(0, None, "")
                continue
            for header in resp.msg.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].strip().partition("=")
                if "max-age=0" in header.lower():
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = value
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return Answer(resp.status, parsed, resp.getheader("X-Upstream", ""))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@pytest.fixture(scope="module", params=FRAMEWORKS)
def counter(request: pytest.FixtureRequest, e2e_redis: ServerProcess, e2e_workdir: Path) -> Iterator[Deployment]:
    """Three replicas of ``e2e._counter_app`` for one framework behind nginx, local cache on."""
    framework = request.param
    deploy = Deployment(framework, "after", e2e_redis.url, e2e_workdir, app=f"e2e._counter_app:{framework}_app",
                        env={"COUNTER_PREFIX": f"ryw-{framework}:"})
    try:
        deploy.start()
        yield deploy
    finally:
        deploy.close()


@pytest.fixture
def admin(e2e_redis: ServerProcess) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(e2e_redis.url)
    try:
        yield client
    finally:
        client.close()


def rr_port(deploy: Deployment) -> int:
    assert deploy.nginx is not None
    return deploy.nginx.rr_port


def commandstats(admin: redis.Redis) -> Counter[str]:
    stats: dict[str, Any] = admin.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})


def tracking_connections(admin: redis.Redis) -> int:
    return sum(1 for c in admin.client_list() if c.get("name") == TRACKING_NAME)


@dataclass
class Run:
    """What the write/read loop saw. ``holds`` models each replica's cache for this session: the value
    it last read, until it writes or the session changes."""

    writes: int = 0
    reads: int = 0
    stale: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pairs: int = 0  # first read on a replica other than the writer after a write
    pairs_old_copy: int = 0  # ...where that replica had read the previous value (held it in memory)
    app_hits: int = 0  # reads the replica's own counters say came from memory (Flask, Starlette)
    served_by: Counter[str] = field(default_factory=Counter)
    holds: dict[str, str | None] = field(default_factory=dict)
    seen: dict[str, dict[str, int]] = field(default_factory=dict)


def write_read_loop(client: Client, writes: int, reads_per_write: int, deadline: float) -> Run:
    run = Run()
    for n in range(writes):
        if time.monotonic() > deadline:
            run.errors.append(f"deadline reached after {n} writes")
            break
        value = f"{n}-{uuid.uuid4().hex[:8]}"
        wrote = client.request("POST", "/set", {"key": "counter", "value": value})
        if wrote.status != 200:
            run.errors.append(f"write {n}: {wrote.status} {wrote.body!r} via {wrote.upstream}")
            break
        run.writes += 1
        run.served_by[wrote.upstream] += 1
        writer = wrote.upstream
        run.holds[writer] = None  # a replica forgets its copy when it writes
        first_read: set[str] = set()
        for _ in range(reads_per_write):
            got = client.request("GET", "/get?key=counter")
            run.reads += 1
            run.served_by[got.upstream] += 1
            if got.status != 200 or not isinstance(got.body, dict):
                run.errors.append(f"read after write {n}: {got.status} {got.body!r} via {got.upstream}")
                break
            replica = got.upstream
            if replica != writer and replica not in first_read:
                first_read.add(replica)
                run.pairs += 1
                if run.holds.get(replica) not in (None, value):
                    run.pairs_old_copy += 1
            if got.body["value"] != value:
                run.stale.append(f"write {n} ({value!r}) acknowledged via {writer}, then {replica} "
                                 f"answered {got.body['value']!r}")
            run.holds[replica] = got.body["value"]
            stats = got.body.get("cache")
            if stats is not None:
                before = run.seen.get(replica)
                if before is not None and stats["hits"] > before["hits"] and stats["misses"] == before["misses"]:
                    run.app_hits += 1
                run.seen[replica] = stats
        if run.errors:
            break
    return run


def test_read_your_writes_across_replicas(counter: Deployment, admin: redis.Redis) -> None:
    """Write a new value, then read it on every replica: never an older value, most reads from memory."""
    started = time.monotonic()
    client = Client(rr_port(counter))
    try:
        warm = client.request("POST", "/set", {"key": "counter", "value": "start"})
        assert warm.status == 200 and client.jar, (warm, counter.logs())
        for _ in range(6):  # every replica reads the session before the first measured write
            assert client.request("GET", "/get?key=counter").body["value"] == "start"
        assert tracking_connections(admin) >= 3, "every replica keeps a tracking connection"
        before = commandstats(admin)
        run = write_read_loop(client, WRITES, READS_PER_WRITE, time.monotonic() + scaled(MAX_SECONDS))
        after = commandstats(admin)
    finally:
        client.close()
    hgetall = after["hgetall"] - before["hgetall"]
    from_memory = 1 - hgetall / max(run.reads, 1)  # every HGETALL counted against the reads
    wall = time.monotonic() - started
    print(f"\n[{counter.framework}] {run.writes} writes, {run.reads} reads, {run.pairs} cross-replica "
          f"read-after-write pairs ({run.pairs_old_copy} on a replica holding the previous value), "
          f"{len(run.stale)} stale; HGETALL {hgetall} for {run.reads} reads -> >= {from_memory:.1%} of reads "
          f"from memory; app-counted hits {run.app_hits}; served by {dict(run.served_by)}; {wall:.1f} s")
    assert run.errors == [], (run.errors, counter.logs())
    assert run.stale == [], run.stale[:20]
    assert run.writes == WRITES and run.reads == WRITES * READS_PER_WRITE
    assert len(run.served_by) == 3
    assert run.pairs == 2 * WRITES  # round-robin: the two other replicas read after every write
    assert run.pairs_old_copy >= 0.9 * run.pairs  # ...and nearly always still held the previous value
    assert from_memory > 0.5, f"only {hgetall} HGETALL for {run.reads} reads expected, got {hgetall}"
    if counter.framework != "django":  # the app sees its store's counters (Django's adapter hides its store)
        assert run.app_hits > 0.5 * run.reads


def _at_once(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run the calls together (released by one barrier), each on its own connection."""
    barrier = threading.Barrier(len(calls))
    answers: list[Answer] = []
    lock = threading.Lock()

    def run(call: Callable[[], Answer]) -> None:
        barrier.wait(timeout=scaled(60))
        answer = call()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(120))
    assert not any(t.is_alive() for t in threads), "a request outlived its timeout"
    return answers


def _session(deploy: Deployment, data: dict[str, str]) -> Client:
    """A new session holding ``data``, read (and so cached) twice by every replica."""
    client = Client(rr_port(deploy))
    for key, value in data.items():
        assert client.request("POST", "/set", {"key": key, "value": value}).status == 200
    for _ in range(6):
        assert client.request("GET", "/dump").status == 200
    client.close()
    return client


def _one_shot(port: int, jar: dict[str, str], method: str, path: str, form: dict[str, str] | None = None) -> Answer:
    client = Client(port, dict(jar))
    try:
        return client.request(method, path, form)
    finally:
        client.close()


def test_concurrent_distinct_key_writes_lose_nothing(counter: Deployment) -> None:
    """50 writers of distinct keys of one cached session at once, spread over three replicas: 0 lost."""
    started = time.monotonic()
    client = _session(counter, {"user": "probe"})
    port = rr_port(counter)
    answers = _at_once([lambda i=i: _one_shot(port, client.jar, "POST", "/set", {"key": f"k{i}", "value": "1"})
                        for i in range(50)])
    assert sorted(a.status for a in answers) == [200] * 50, counter.logs()
    assert len({a.upstream for a in answers}) == 3
    dumps = [client.request("GET", "/dump").body for _ in range(3)]  # one read on every replica
    client.close()
    lost = [[f"k{i}" for i in range(50) if f"k{i}" not in dump] for dump in dumps]
    print(f"\n[{counter.framework}] 50 concurrent distinct-key writers via 3 replicas: lost {lost}; "
          f"{time.monotonic() - started:.1f} s")
    assert lost == [[], [], []]
    assert all(dump["user"] == "probe" for dump in dumps)


def test_write_racing_reads_survives(counter: Deployment) -> None:
    """One write racing 49 reads of the same cached session, 5 times: the write survives on every
    replica (a read that raced it is never kept as the newer copy)."""
    started = time.monotonic()
    port = rr_port(counter)
    survived = 0
    seen: list[list[Any]] = []
    for _ in range(5):
        client = _session(counter, {"x": "old"})
        calls: list[Callable[[], Answer]] = [lambda: _one_shot(port, client.jar, "GET", "/get?key=x")
                                             for _ in range(49)]
        calls.insert(24, lambda: _one_shot(port, client.jar, "POST", "/set", {"key": "x", "value": "new"}))
        answers = _at_once(calls)
        assert sorted(a.status for a in answers) == [200] * 50, counter.logs()
        after = [client.request("GET", "/get?key=x").body["value"] for _ in range(6)]  # twice per replica
        client.close()
        seen.append(after)
        survived += after == ["new"] * 6
    print(f"\n[{counter.framework}] write racing 49 reads: survived {survived}/5 (reads after: {seen}); "
          f"{time.monotonic() - started:.1f} s")
    assert survived == 5, seen


def _reads_from_redis(client: Client, admin: redis.Redis, reads: int, expect: str) -> int:
    """``reads`` reads of the counter, each checked against ``expect``; how many HGETALL they cost."""
    before = commandstats(admin)["hgetall"]
    values = [client.request("GET", "/get?key=counter").body["value"] for _ in range(reads)]
    assert values == [expect] * reads
    return commandstats(admin)["hgetall"] - before


def test_lost_tracking_connection_flushes_every_replica(counter: Deployment, admin: redis.Redis) -> None:
    """Redis drops every replica's tracking connection, then a write lands: no replica serves its
    older copy (each flushes on the dropped connection), and tracking and memory reads come back."""
    started = time.monotonic()
    client = Client(rr_port(counter))
    try:
        assert client.request("POST", "/set", {"key": "counter", "value": "v0"}).status == 200
        _reads_from_redis(client, admin, 6, "v0")  # every replica reads it twice: cached
        assert _reads_from_redis(client, admin, 3, "v0") == 0  # one read per replica, all from memory
        tracking = [c["id"] for c in admin.client_list() if c.get("name") == TRACKING_NAME]
        assert len(tracking) >= 3
        for client_id in tracking:
            admin.execute_command("CLIENT", "KILL", "ID", client_id)
        assert client.request("POST", "/set", {"key": "counter", "value": "v1"}).status == 200
        after_drop = _reads_from_redis(client, admin, 3, "v1")  # the first read on each replica
        deadline = time.monotonic() + scaled(30)
        while tracking_connections(admin) < 3 and time.monotonic() < deadline:
            _reads_from_redis(client, admin, 3, "v1")  # a replica reconnects on its next read
        reconnected = tracking_connections(admin)
        _reads_from_redis(client, admin, 3, "v1")  # cached again after the reconnect
        warm = _reads_from_redis(client, admin, 3, "v1")
    finally:
        client.close()
    print(f"\n[{counter.framework}] {len(tracking)} tracking connections killed, then a write: first reads "
          f"cost {after_drop} HGETALL, {reconnected} tracking connections back, warm reads cost {warm} "
          f"HGETALL; {time.monotonic() - started:.1f} s")
    assert after_drop == 3  # nothing was served from memory while tracking was in doubt
    assert reconnected >= 3
    assert warm == 0
