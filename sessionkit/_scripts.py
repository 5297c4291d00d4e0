"""The one Lua script behind every write: atomic, single-key (so Cluster-safe).

KEYS[1] = the one key the call touches. ARGV = mode, ttl_ms, n_set, field1, value1, ..., then fields
to delete. A live session always has its metadata field ``\\0m``; a regenerated session's old key
holds only the marker ``\\0r`` for a few seconds. Modes and replies:

- ``create``: ``-1`` if the key exists (a new session never overwrites another), else write, ``1``.
- ``update``: ``0`` if the session is gone (a write racing a logout never resurrects it), ``2`` if
  it was replaced by a regenerate (the marker), else write, ``1``.
- ``empty``: like ``update``, then delete the whole hash only if no user field is left (``3``;
  the write has just set the two metadata fields, ``\\0m`` and ``\\0e`` (the key's expiry time)):
  a concurrent request's keys are never wiped by a request that removed its own last key.
- ``replace``: the claim of a regenerate: like ``update`` (``0``/``2``), else replace the hash by the
  marker with TTL ``ttl_ms``, ``1``. Of two concurrent regenerates only one gets ``1``.
- ``delete``: delete the key, reply with its metadata field (``nil`` if there was no session).
- ``index``: ``KEYS[1]`` is a user index: add ARGV[3] to it and extend its TTL to at least ``ttl_ms``.
"""

from __future__ import annotations

WRITTEN, GONE, REPLACED, EXISTS, EMPTIED = 1, 0, 2, -1, 3

WRITE = """
local key, mode = KEYS[1], ARGV[1]
if mode == 'delete' then
  local meta = redis.call('HGET', key, '\\0m')
  redis.call('DEL', key)
  return meta
elseif mode == 'index' then
  redis.call('SADD', key, ARGV[3])
  if redis.call('PTTL', key) < tonumber(ARGV[2]) then redis.call('PEXPIRE', key, ARGV[2]) end
  return 1
elseif mode == 'create' then
  if redis.call('EXISTS', key) == 1 then return -1 end
elseif redis.call('HEXISTS', key, '\\0m') == 0 then
  if redis.call('EXISTS', key) == 1 then return 2 end
  return 0
end
if mode == 'replace' then
  redis.call('DEL', key)
  redis.call('HSET', key, '\\0r', '1')
  redis.call('PEXPIRE', key, ARGV[2])
  return 1
end
local n = tonumber(ARGV[3])
local i = 4
local last_set = 3 + 2 * n
while i <= last_set do
  local j = math.min(i + 999, last_set)
  redis.call('HSET', key, unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('HDEL', key, unpack(ARGV, i, j))
  i = j + 1
end
if mode == 'empty' and redis.call('HLEN', key) <= 2 then
  redis.call('DEL', key)
  return 3
end
redis.call('PEXPIRE', key, ARGV[2])
return 1
"""


def write_args(mode: str, ttl_ms: int, fields: dict[str, bytes], deleted: list[str]) -> list[object]:
    args: list[object] = [mode, ttl_ms, len(fields)]
    for name, value in fields.items():
        args.append(name)
        args.append(value)
    args.extend(deleted)
    return args
