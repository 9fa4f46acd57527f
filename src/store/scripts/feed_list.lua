-- feed_list.lua - every feed source in the schedule with its status, in one round trip (a
-- folder of a thousand files is a thousand sources): read only.
-- KEYS[1] the schedule (sorted set: source -> due time, ms)
-- ARGV[1] the prefix of a source's status hash
-- Returns a flat array: source, due time, then the status hash as a field/value array, for
-- each source in order.
local out = {}
local z = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #z, 2 do
    out[#out + 1] = z[i]
    out[#out + 1] = z[i + 1]
    out[#out + 1] = redis.call('HGETALL', ARGV[1] .. z[i])
end
return out
