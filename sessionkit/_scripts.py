"""The one Lua script behind every write: atomic, single-key (so Cluster-safe).

KEYS[1] = session key. ARGV = mode, ttl_ms, n_set, field1, value1, ..., then fields to delete.
mode "create": fail (return -1) if the key exists — a new session never overwrites another.
mode "update": fail (return 0) if the key is gone — a write racing a logout never resurrects it.
"""

from __future__ import annotations

WRITE = """
local exists = redis.call('EXISTS', KEYS[1])
if ARGV[1] == 'create' then
  if exists == 1 then return -1 end
elseif exists == 0 then
  return 0
end
local n = tonumber(ARGV[3])
local i = 4
local last_set = 3 + 2 * n
while i <= last_set do
  local j = math.min(i + 999, last_set)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def write_args(mode: str, ttl_ms: int, fields: dict[str, bytes], deleted: list[str]) -> list[object]:
    args: list[object] = [mode, ttl_ms, len(fields)]
    for name, value in fields.items():
        args.append(name)
        args.append(value)
    args.extend(deleted)
    return args
