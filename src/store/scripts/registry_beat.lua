-- registry_beat.lua - registers an agent or renews its heartbeat: its record, the time its
-- heartbeat expires (the score in the set of agents), and how long the record is kept.
-- KEYS[1] the agent's hash, KEYS[2] the set of agents
-- ARGV[1] agent id, ARGV[2] heartbeat TTL ms, ARGV[3] status ("" keeps it), ARGV[4] how long
--   the record outlives its heartbeat (ms), ARGV[5] "register" or "beat", ARGV[6..] (register)
--   the record's field/value pairs
-- Returns the server time in ms, or 0 when beating for an agent that has no record.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[5] == 'register' then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], 'started_ms', now, unpack(ARGV, 6))
elseif redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
redis.call('HSET', KEYS[1], 'heartbeat_ms', now, 'ttl_ms', ttl)
if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[1], 'status', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
return now
