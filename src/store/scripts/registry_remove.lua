-- registry_remove.lua - forgets an agent: its record and its place in the set of agents.
-- KEYS[1] the agent's hash, KEYS[2] the set of agents
-- ARGV[1] agent id
-- Returns 1 when the agent was known, else 0.
local a = redis.call('DEL', KEYS[1])
local b = redis.call('ZREM', KEYS[2], ARGV[1])
if a + b > 0 then
    return 1
end
return 0
