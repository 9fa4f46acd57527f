-- registry_list.lua - the records of every agent (or of one), with the time each heartbeat
-- expires and the server's time, so that the caller can tell the dead from the living. Ids
-- whose record has expired are dropped from the set on the way.
-- KEYS[1] the set of agents
-- ARGV[1] the prefix of agent hashes, ARGV[2] one agent id, or "" for all
-- Returns {now_ms, {{id, expires_ms, {field, value, ...}}, ...}}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids
if ARGV[2] ~= '' then
    ids = {ARGV[2]}
else
    ids = redis.call('ZRANGE', KEYS[1], 0, -1)
end
local out = {}
for _, id in ipairs(ids) do
    local h = redis.call('HGETALL', ARGV[1] .. id)
    local expires = redis.call('ZSCORE', KEYS[1], id)
    if #h == 0 then
        redis.call('ZREM', KEYS[1], id)
    elseif expires then
        out[#out + 1] = {id, tonumber(expires), h}
    end
end
return {now, out}
