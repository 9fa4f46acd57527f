-- queue_open.lua - makes a queue usable: the consumer group on its breaking and normal streams
-- (creating the streams, reading from their start), and its name in the set of queues.
-- KEYS[1] breaking stream, KEYS[2] normal stream, KEYS[3] the set of queue names
-- ARGV[1] group, ARGV[2] queue name
-- Returns 1; an error other than "the group exists" is passed on.
for i = 1, 2 do
    local r = redis.pcall('XGROUP', 'CREATE', KEYS[i], ARGV[1], '0', 'MKSTREAM')
    if type(r) == 'table' and r.err and not string.find(r.err, 'BUSYGROUP', 1, true) then
        return redis.error_reply(r.err)
    end
end
redis.call('SADD', KEYS[3], ARGV[2])
return 1
