-- queue_adopt.lua - takes over the tasks pending under another consumer (a dead agent) for
-- this one, atomically, so that two takers never get the same task. Tasks already done are
-- acknowledged and dropped; a task that would pass the maximum deliveries goes to the dead
-- stream. When the other consumer has nothing pending left it is removed from the groups.
-- KEYS[1] breaking stream, KEYS[2] normal stream, KEYS[3] dead stream
-- ARGV[1] group, ARGV[2] this consumer, ARGV[3] the other consumer, ARGV[4] most tasks to take,
--   ARGV[5] maximum deliveries, ARGV[6] the prefix of done markers, ARGV[7] the cap of the dead
--   stream
-- Returns {tasks, removed}: tasks a list of {stream (1 breaking, 2 normal), entry id,
--   deliveries, {field, value, ...}}; removed 1 when the other consumer was removed.
local group, me, from = ARGV[1], ARGV[2], ARGV[3]
local left, maxd = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}

for s = 1, 2 do
    if left > 0 then
        local pend = redis.call('XPENDING', KEYS[s], group, '-', '+', left, from)
        for _, pe in ipairs(pend) do
            local id = pe[1]
            local c = redis.call('XCLAIM', KEYS[s], group, me, 0, id)
            local e = c[1]
            if e then
                local f = e[2]
                local d = (tonumber(field(f, 'att')) or 0) + tonumber(pe[4]) + 1
                if redis.call('EXISTS', ARGV[6] .. (field(f, 'id') or '')) == 1 then
                    redis.call('XACK', KEYS[s], group, id)
                    redis.call('XDEL', KEYS[s], id)
                elseif d > maxd then
                    local err = 'its consumer ' .. from .. ' died after ' .. (d - 1) ..
                                    ' deliveries'
                    local prev = field(f, 'err')
                    if prev then
                        err = err .. '; last error: ' .. prev
                    end
                    bury(KEYS[3], ARGV[7], f, id, s == 1 and 'b' or 'n', d - 1, err)
                    redis.call('XACK', KEYS[s], group, id)
                    redis.call('XDEL', KEYS[s], id)
                else
                    out[#out + 1] = {s, id, d, f}
                    left = left - 1
                end
            end
        end
    end
end

local removed = 0
if #redis.call('XPENDING', KEYS[1], group, '-', '+', 1, from) == 0 and
    #redis.call('XPENDING', KEYS[2], group, '-', '+', 1, from) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], group, from)
    redis.call('XGROUP', 'DELCONSUMER', KEYS[2], group, from)
    removed = 1
end
return {out, removed}
