-- queue_stats.lua - the figures of one queue, read at one instant.
-- KEYS[1] breaking stream, KEYS[2] normal stream, KEYS[3] delayed set, KEYS[4] dead stream
-- ARGV[1] group
-- Returns {waiting_breaking, waiting_normal, pending, delayed, consumers, dead, oldest_age_ms}
-- where waiting counts tasks not yet delivered, pending those delivered and not acknowledged,
-- consumers the distinct consumers of both groups, and oldest_age_ms the age of the oldest
-- waiting or pending task (-1 when there is none).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local waiting, pending, consumers, seen, oldest = {0, 0}, 0, 0, {}, -1

for s = 1, 2 do
    local len = redis.call('XLEN', KEYS[s])
    local pend = 0
    local info = redis.pcall('XINFO', 'CONSUMERS', KEYS[s], ARGV[1])
    if type(info) == 'table' and not info.err then
        for _, c in ipairs(info) do
            local name, n
            for i = 1, #c, 2 do
                if c[i] == 'name' then
                    name = c[i + 1]
                elseif c[i] == 'pending' then
                    n = c[i + 1]
                end
            end
            pend = pend + (n or 0)
            if name and not seen[name] then
                seen[name] = true
                consumers = consumers + 1
            end
        end
    end
    pending = pending + pend
    waiting[s] = math.max(0, len - pend)
    if len > 0 then
        local first = redis.call('XRANGE', KEYS[s], '-', '+', 'COUNT', 1)
        if first[1] then
            local since = tonumber(string.match(first[1][1], '^(%d+)'))
            local f = first[1][2]
            for i = 1, #f, 2 do
                if f[i] == 'enq' then
                    since = tonumber(f[i + 1]) or since
                end
            end
            oldest = math.max(oldest, now - since)
        end
    end
end

return {waiting[1], waiting[2], pending, redis.call('ZCARD', KEYS[3]), consumers,
        redis.call('XLEN', KEYS[4]), oldest}
