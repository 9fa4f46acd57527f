-- feed_unpolled.lua - what `swarm --once` waits for: the sources (and their folders' files)
-- that are due by their own schedule and were not polled since a given time, on the server's
-- clock, in one round trip. Read only.
-- ARGV[1] since (ms), ARGV[2] the prefix of a folder's file set, ARGV[3] the prefix of a
--   source's status hash, ARGV[4..] the sources
-- Returns {count, the first such source or ""}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local since = tonumber(ARGV[1])
local count, first = 0, ''
local function check(source)
    local v = redis.call('HMGET', ARGV[3] .. source, 'last_fetch_ms', 'next_ms')
    if (tonumber(v[1]) or 0) < since and (tonumber(v[2]) or 0) <= now then
        if count == 0 then first = source end
        count = count + 1
    end
end
for i = 4, #ARGV do
    check(ARGV[i])
    local files = redis.call('SMEMBERS', ARGV[2] .. ARGV[i])
    table.sort(files)
    for _, f in ipairs(files) do check(f) end
end
return {count, first}
