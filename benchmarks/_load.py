"""Load generation: wrk with a Lua script (90% reads, 10% writes, one established session), or a
threaded Python fallback when wrk is not installed (much weaker: it measures the client too)."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LUA = """\
local cookie = [[{cookie}]]
local n = 0
request = function()
  n = n + 1
  local headers = {{}}
  if cookie ~= "" then headers["Cookie"] = cookie end
  if n % 10 == 0 then return wrk.format("GET", "/write?value=" .. n, headers) end
  return wrk.format("GET", "/read", headers)
end
"""


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors
    outside_cpu: float = 0.0  # share of the machine's CPU used by processes outside the benchmark
    responses: int = 0  # answers counted by the load generator
    app_cpu_us: float = 0.0  # CPU of the app server's processes per response (utime + stime)
    redis_cpu_us: float = 0.0  # CPU of redis-server per response


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(port: int, cookie: str, seconds: float, connections: int = 16, threads: int = 2) -> Load:
    binary = shutil.which("wrk")
    assert binary is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(cookie=cookie))
    try:
        out = subprocess.run(
            [binary, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
             "-s", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        Path(script.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    responses = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Load(rps, p50, p99, errors, responses=responses)


def python_load(port: int, cookie: str, seconds: float, connections: int = 16) -> Load:
    """The fallback: ``connections`` threads, one request per connection, same 90/10 mix."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run() -> None:
        n, mine, bad = 0, [], 0
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < deadline:
            n += 1
            path = f"/write?value={n}" if n % 10 == 0 else "/read"
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                bad += resp.status >= 300
            except (OSError, http.client.HTTPException):
                bad += 1
            finally:
                conn.close()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    latencies.sort()
    if not latencies:
        return Load(0.0, 0.0, 0.0, errors[0])
    return Load(len(latencies) / seconds, latencies[len(latencies) // 2],
                latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], errors[0],
                responses=len(latencies))


def load(port: int, cookie: str, seconds: float) -> Load:
    return wrk(port, cookie, seconds) if shutil.which("wrk") else python_load(port, cookie, seconds)
