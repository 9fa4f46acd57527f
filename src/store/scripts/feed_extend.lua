-- feed_extend.lua - keeps a scout's claims on the sources whose poll it is still finishing
-- (fetching articles, writing items): each source still in the schedule gets its due time
-- moved to the end of a new lease, never earlier than it was.
-- KEYS[1] the schedule (sorted set: source -> due time, ms)
-- ARGV[1] the lease in ms, ARGV[2..] the sources
-- Returns how many were extended.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do
    local due = redis.call('ZSCORE', KEYS[1], ARGV[i])
    if due and tonumber(due) < untl then
        redis.call('ZADD', KEYS[1], untl, ARGV[i])
        n = n + 1
    end
end
return n
