-- queue_enqueue.lua - enqueues a batch of tasks in one step.
-- KEYS[1] breaking stream, KEYS[2] normal stream
-- ARGV: four per task: priority ("b" or "n"), task id, type, payload (JSON)
-- Returns the number of tasks enqueued.
local n = 0
for i = 1, #ARGV, 4 do
    local key = ARGV[i] == 'b' and KEYS[1] or KEYS[2]
    redis.call('XADD', key, '*', 'id', ARGV[i + 1], 'type', ARGV[i + 2], 'payload', ARGV[i + 3])
    n = n + 1
end
return n
