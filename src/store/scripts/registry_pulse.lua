-- registry_pulse.lua - the heartbeat of every agent of one process, sent by one thread that
-- never waits on a model or a render: each agent's heartbeat is renewed (as registry_beat.lua
-- does) and the lock of the claim it works on now is extended (a live agent's claim never
-- lapses however long it works on it; its debate seats stay live because its heartbeat does,
-- see debate_seat.lua). Its other claims (blackboard P .. 'held:' .. agent) are left to their
-- locks: one the agent let go without saying so (Redis failed under its last write) lapses and
-- goes back (bb_reclaim.lua); those no longer its own leave the set. An agent found marked
-- 'reaped' (declared dead while it lived on: the process stood still, or lost Redis, for
-- longer than the heartbeat's TTL) is told so, and the mark is taken off: its claims were
-- taken back and its writes to them are refused, but from now on it lives again.
-- ARGV[1] the set of agents, ARGV[2] the prefix of agent records, ARGV[3] the blackboard's
--   prefix, ARGV[4] (unused), ARGV[5] heartbeat TTL ms, ARGV[6] how long a record
--   outlives its heartbeat (ms), ARGV[7] the claims' lock TTL ms, ARGV[8..] pairs of agent id
--   and the item id of the claim it works on now ('' for none)
-- Returns {now, {{id, 1 when its record exists else 0, reaped ms or 0}, ...}}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local REG, AP, BP = ARGV[1], ARGV[2], ARGV[3]
local ttl, keep, claim = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local out = {}
for i = 8, #ARGV, 2 do
  local id, current = ARGV[i], ARGV[i + 1]
  local key = AP .. id
  if redis.call('EXISTS', key) == 0 then
    out[#out + 1] = {id, 0, 0}
  else
    local reaped = tonumber(redis.call('HGET', key, 'reaped') or '0')
    if reaped > 0 then redis.call('HDEL', key, 'reaped') end
    redis.call('HSET', key, 'heartbeat_ms', now, 'ttl_ms', ttl)
    redis.call('PEXPIRE', key, ttl + keep)
    redis.call('ZADD', REG, now + ttl, id)
    local held = BP .. 'held:' .. id
    for _, item in ipairs(redis.call('SMEMBERS', held)) do
      if redis.call('HGET', BP .. 'item:' .. item, 'owner') ~= id or
         redis.call('EXISTS', BP .. 'lock:' .. item) == 0 then
        redis.call('SREM', held, item)
      elseif item == current then
        redis.call('PEXPIRE', BP .. 'lock:' .. item, claim)
      end
    end
    out[#out + 1] = {id, 1, reaped}
  end
end
return {now, out}
