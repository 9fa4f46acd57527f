-- queue_nack.lua - gives a task back after a failure, keeping the error: back into its stream
-- now, into the delayed set until its delay has passed, or into the dead stream once it has
-- had the maximum deliveries (or when asked to bury it). Only the consumer that holds the task
-- may give it back; a task completed meanwhile is only acknowledged.
-- KEYS[1] the task's stream, KEYS[2] delayed set, KEYS[3] dead stream, KEYS[4] done marker
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] consumer, ARGV[4] maximum deliveries, ARGV[5] delay
--   ms, ARGV[6] error, ARGV[7] "bury" to bury now (else "nack"), ARGV[8] priority "b" or "n",
--   ARGV[9] the cap of the dead stream
-- Returns {outcome, deliveries}: outcome "requeued", "delayed", "dead", "done" or "lost".
local group, id = ARGV[1], ARGV[2]

if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('XACK', KEYS[1], group, id)
    redis.call('XDEL', KEYS[1], id)
    return {'done', 0}
end
local p = redis.call('XPENDING', KEYS[1], group, id, id, 1)
if not p[1] or p[1][2] ~= ARGV[3] then
    return {'lost', 0}
end
local e = redis.call('XRANGE', KEYS[1], id, id)
redis.call('XACK', KEYS[1], group, id)
redis.call('XDEL', KEYS[1], id)
if not e[1] then
    return {'lost', 0}
end
local f = e[1][2]
local d = (tonumber(field(f, 'att')) or 0) + tonumber(p[1][4])
local now = now_ms()
local rec = task_fields(f, id)
local function add(...)
    for _, v in ipairs({...}) do
        rec[#rec + 1] = v
    end
end

if ARGV[7] == 'bury' or d >= tonumber(ARGV[4]) then
    bury(KEYS[3], ARGV[9], f, id, ARGV[8], d, ARGV[6])
    return {'dead', d}
end
add('att', tostring(d), 'err', ARGV[6])
local delay = tonumber(ARGV[5])
if delay <= 0 then
    redis.call('XADD', KEYS[1], '*', unpack(rec))
    return {'requeued', d}
end
add('pri', ARGV[8])
redis.call('ZADD', KEYS[2], now + delay, cjson.encode(rec))
return {'delayed', d}
