-- queue_ack.lua - completes a task exactly once: sets its done marker unless it exists, and
-- acknowledges and deletes its stream entry either way. Given the queue's two streams as well,
-- it then reads the next task for the consumer: breaking first, normal only when no breaking
-- task waits (two reads here, so a normal task is never taken beside a breaking one).
-- KEYS[1] the task's stream, KEYS[2] the task's done marker, KEYS[3] and KEYS[4] (optional)
--   the breaking and normal streams to read the next task from
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] done marker TTL ms, ARGV[4] the marker's value (the
--   result as JSON, or ""), ARGV[5] (with KEYS[3]) the consumer
-- Returns {first, next}: first 1 for the completion that took effect, 0 when the task was done
-- already; next false, or the XREADGROUP reply for the next task.
local first = redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local next = false
if KEYS[3] then
    -- pcall: the ack above stands whatever the read says (a script is not rolled back), so a
    -- failed read must not turn it into an error; the caller's next dequeue will say what is
    -- wrong.
    for _, stream in ipairs({KEYS[3], KEYS[4]}) do
        next = redis.pcall('XREADGROUP', 'GROUP', ARGV[1], ARGV[5], 'COUNT', 1, 'STREAMS',
                           stream, '>')
        if type(next) == 'table' and next.err then
            next = false
        end
        if next then
            break
        end
    end
end
return {first and 1 or 0, next}
