-- registry_prune.lua - dead agents leave the registry: those whose heartbeat expired more than
-- a given time ago lose their record and their place in the set of agents.
-- KEYS[1] the set of agents
-- ARGV[1] the prefix of agent hashes, ARGV[2] how long dead (ms), ARGV[3] how many at most
-- Returns how many went.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0,
  tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids
