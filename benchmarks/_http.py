"""A minimal HTTP client for the probes: one connection per request, cookies handled by hand."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int  # 0: no HTTP answer
    body: Any = None
    cookies: dict[str, str] = field(default_factory=dict)  # Set-Cookie name -> value ("" = deleted)
    headers: dict[str, str] = field(default_factory=dict)


def get(port: int, path: str, cookie: str | None = None, timeout: float = 10.0) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        raw = resp.read()
        cookies = {}
        for header in resp.msg.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            cookies[name] = "" if "max-age=0" in header.lower() else value
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Answer(resp.status, body, cookies, {k.lower(): v for k, v in resp.getheaders()})
    except (OSError, http.client.HTTPException):
        return Answer(0)
    finally:
        conn.close()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items() if v)


def login(port: int) -> dict[str, str]:
    """Establish a session; the cookies a browser would now hold."""
    answer = get(port, "/login")
    if answer.status != 200 or not answer.cookies:
        raise RuntimeError(f"/login on port {port} answered {answer.status} {answer.body!r} without a cookie")
    return answer.cookies
