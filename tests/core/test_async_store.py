"""AsyncRedisStore against a real server: the same decisions as RedisStore, awaited."""

from __future__ import annotations

import asyncio

import pytest
import redis
from _counting import measure

from sessionkit import AsyncRedisStore, SessionBackendUnavailable

SECRET = "async-secret-0123456789abcdef"


def run(coro):
    return asyncio.run(coro)


async def new_cookie(store: AsyncRedisStore, **data) -> str:
    s = await store.open(None)
    s.update(data)
    result = await store.save(s)
    assert result.cookie == "set" and result.value
    return result.value


def test_lifecycle(redis_url: str, key_prefix: str) -> None:
    async def main() -> None:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix)
        cookie = await new_cookie(store, cart=[])
        s = await store.open(cookie)
        s["cart"].append("pear")
        await store.save(s)
        s = await store.open(cookie)
        assert dict(s) == {"cart": ["pear"]}
        s.bind_user(42)
        s.regenerate()
        new = (await store.save(s)).value
        assert dict(await store.open(cookie)) == {}
        assert dict(await store.open(new)) == {"cart": ["pear"]}
        assert len(await store.sessions_of(42)) == 1
        assert await store.revoke_user(42) == 1
        assert (await store.open(new)).new
        await store.aclose()

    run(main())


def test_costs(redis_url: str, key_prefix: str, redis_client: redis.Redis) -> None:
    async def main() -> dict:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix)
        cookie = await new_cookie(store, a=1)
        costs = {}
        with measure(redis_client) as costs["forged"]:
            await store.save(await store.open(cookie[:-3] + "abc"))
        with measure(redis_client) as costs["read"]:
            s = await store.open(cookie)
            s.get("a")
            await store.save(s)
        with measure(redis_client) as costs["write"]:
            s = await store.open(cookie)
            s["a"] = 2
            await store.save(s)
        await store.aclose()
        return costs

    costs = run(main())
    assert costs["forged"].commands == {}
    assert costs["read"].commands == {"hgetall": 1}
    assert costs["write"].commands == {"hgetall": 1, "evalsha": 1, "hexists": 1, "hset": 1, "pexpire": 1}


def test_fifty_concurrent_writers_lose_nothing(redis_url: str, key_prefix: str) -> None:
    async def main() -> None:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix)
        for _ in range(10):
            cookie = await new_cookie(store, start=1)

            async def write(i: int) -> None:
                s = await store.open(cookie)
                s[f"k{i}"] = i
                await store.save(s)

            await asyncio.gather(*(write(i) for i in range(50)))
            data = dict(await store.open(cookie))
            assert len(data) == 51
        await store.aclose()

    run(main())


def test_outage_and_recovery_and_degraded(redis_url: str, key_prefix: str, redis_server) -> None:
    async def main() -> None:
        store = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix)
        degraded = AsyncRedisStore(redis_url, secret_keys=SECRET, key_prefix=key_prefix, degraded=True)
        cookie = await new_cookie(store, a=1)
        redis_server.stop()
        try:
            with pytest.raises(SessionBackendUnavailable):
                await store.open(cookie)
            s = await degraded.open(cookie)
            assert s.degraded and dict(s) == {}
            s["x"] = 1
            assert (await degraded.save(s)).cookie == "keep"
        finally:
            redis_server.start()
        assert dict(await store.open(await new_cookie(store, b=2))) == {"b": 2}
        await store.aclose()
        await degraded.aclose()

    run(main())
