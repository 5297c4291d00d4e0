"""CPU per request through the Flask and Django benchmark apps, in process: no session, the
framework's cookie session, the Redis peers, sessionkit with the local cache on and off.

Run:  python benchmarks/wsgi_ops.py [--n 1000] [--rounds 7] [--framework flask|django]
Uses $REDIS_URL if set, else starts a throw-away server (redis-server, or the bundled Valkey).

Each request is one WSGI call of ``benchmarks/_app_flask.py`` or ``benchmarks/_app_django.py``
(the apps ``peers.py`` serves with gunicorn), so the figures hold the middleware, the view and the
framework's routing, and none of the HTTP server's or the network's work. The kinds are those of
``asgi_ops.py``: *read*, *write*, *untouched* and *mix* (nine reads then one write) with the cookie
of an established session. Each figure is the CPU time of this process per request
(``time.process_time``: Redis's own CPU is not in it), median [interquartile range] of interleaved
rounds whose order rotates every round. Django's apps are set up once per process, so each Django
configuration runs in a child process of its own; the Flask ones share this process.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _redis import redis_url
from _rounds import rotated
from asgi_ops import summary

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "flask": ["none", "cookie", "flask-session", "sessionkit", "sessionkit-nocache"],
    "django": ["none", "signed-cookies", "django-redis", "sessionkit", "sessionkit-nocache"],
}

Call = Callable[[], int]
KINDS = ["mix", "read", "write", "untouched"]


def load_app(framework: str, config: str, url: str) -> Any:
    """A fresh copy of the benchmark app configured by ``BENCH_CONFIG=config``."""
    os.environ["BENCH_CONFIG"], os.environ["REDIS_URL"] = config, url
    name = f"_app_{framework}_{config.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, HERE / f"_app_{framework}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Django's ROOT_URLCONF is the module itself
    spec.loader.exec_module(module)
    return module.app


def call(app: Any, path: str, query: str = "", cookie: str | None = None) -> tuple[int, list[str]]:
    """One WSGI request; the status code and the ``Set-Cookie`` values."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
               "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
               "wsgi.multiprocess": True, "wsgi.run_once": False}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    status: list[str] = []
    cookies: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        cookies.extend(value for name, value in headers if name.lower() == "set-cookie")
        return lambda data: None

    body = app(environ, start_response)
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0]), cookies


def cases(app: Any, config: str) -> dict[str, Call]:
    cookie = None
    if config != "none":
        _, cookies = call(app, "/login")
        cookie = "; ".join(value.split(";")[0] for value in cookies)
    count = [0]

    def write() -> int:
        count[0] += 1
        return call(app, "/write", f"value=v{count[0]}", cookie)[0]

    def mix() -> int:
        count[0] += 1
        if count[0] % 10 == 0:
            return call(app, "/write", f"value=v{count[0]}", cookie)[0]
        return call(app, "/read", cookie=cookie)[0]

    def read() -> int:
        return call(app, "/read", cookie=cookie)[0]

    def untouched() -> int:
        return call(app, "/untouched", cookie=cookie)[0]

    return {"mix": mix, "read": read, "write": write, "untouched": untouched}


def measure(todo: dict[tuple[str, str], Call], n: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    """Interleaved rounds, order rotated every round; CPU seconds per request."""
    for fn in todo.values():  # warm up: connections, the script, the caches
        for _ in range(200):
            if (status := fn()) != 200:
                raise RuntimeError(f"benchmark app answered {status}")
    results: dict[tuple[str, str], list[float]] = {name: [] for name in todo}
    for name in rotated(list(todo), rounds):
        fn = todo[name]
        start = time.process_time()
        for _ in range(n):
            fn()
        results[name].append((time.process_time() - start) / n)
    return results


def _django_child(config: str, url: str, n: int, rounds: int) -> dict[str, list[float]]:
    """One Django configuration in a child process (settings are process-global)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import wsgi_ops as w; "
            "app = w.load_app('django', sys.argv[2], sys.argv[3]); "
            "r = w.measure({(sys.argv[2], k): f for k, f in w.cases(app, sys.argv[2]).items()}, "
            "int(sys.argv[4]), int(sys.argv[5])); print(json.dumps({k: v for (_, k), v in r.items()}))")
    out = subprocess.run([sys.executable, "-c", code, str(HERE), config, url, str(n), str(rounds)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def run(framework: str, url: str, n: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    configs = CONFIGS[framework]
    if framework == "flask":
        todo = {(config, kind): fn for config in configs
                for kind, fn in cases(load_app("flask", config, url), config).items()}
        return measure(todo, n, rounds)
    # Django: interleave the configurations by running them round by round, one child each.
    results: dict[tuple[str, str], list[float]] = {(c, k): [] for c in configs for k in KINDS}
    for config in rotated(configs, rounds):
        for kind, values in _django_child(config, url, n, 1).items():
            results[(config, kind)].extend(values)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--framework", choices=sorted(CONFIGS), action="append",
                        help="flask, django (default: both)")
    args = parser.parse_args()
    with redis_url() as url:
        for framework in args.framework or ["flask", "django"]:
            results = run(framework, url, args.n, args.rounds)
            print(f"{framework}: CPU µs per request, median [IQR]; load {os.getloadavg()[0]:.1f}; "
                  f"n={args.n} x {args.rounds} rounds")
            print(f"{'configuration':<20}" + "".join(f"{kind:>24}" for kind in KINDS))
            for config in CONFIGS[framework]:
                print(f"{config:<20}" + "".join(f"{summary(results[(config, kind)]):>24}"
                                                for kind in KINDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
