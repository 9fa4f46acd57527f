-- queue_ack_take.lua - completes a batch of tasks, each exactly once (its done marker set
-- unless it exists, the entry acknowledged and deleted either way), and takes up to N next
-- tasks for the consumer, breaking first, in one step: a worker that works in batches pays
-- one round trip per batch instead of one per task.
-- KEYS[1] breaking stream, KEYS[2] normal stream
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] done-marker prefix, ARGV[4] marker TTL ms,
--   ARGV[5] how many next tasks to take (0: none), ARGV[6..] per completed task: its stream
--   (1 breaking, 2 normal), entry id, task id
-- Returns {firsts, breaking read, normal read}: firsts 1 or 0 per completed task (0 when it
--   was done already), each read false or an XREADGROUP reply.
local firsts = {}
for i = 6, #ARGV, 3 do
    local key = KEYS[tonumber(ARGV[i])]
    local first = redis.call('SET', ARGV[3] .. ARGV[i + 2], '', 'NX', 'PX', ARGV[4])
    redis.call('XACK', key, ARGV[1], ARGV[i + 1])
    redis.call('XDEL', key, ARGV[i + 1])
    firsts[#firsts + 1] = first and 1 or 0
end
local want = tonumber(ARGV[5])
local reads = {false, false}
for s = 1, 2 do
    if want > 0 then
        -- pcall: the acks above stand whatever the read says (a script is not rolled back).
        local r = redis.pcall('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want, 'STREAMS',
                              KEYS[s], '>')
        if type(r) == 'table' and not r.err and r[1] then
            reads[s] = r
            want = want - #r[1][2]
        end
    end
end
return {firsts, reads[1], reads[2]}
