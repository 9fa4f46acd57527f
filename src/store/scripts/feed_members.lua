-- feed_members.lua - records a folder source's files, each a source of its own (feed_claim
-- offers them to scouts): the folder's file set is replaced, and a file no longer in the
-- folder leaves the schedule with its status.
-- KEYS[1] the folder's file set, KEYS[2] the schedule (sorted set)
-- ARGV[1] the prefix of a source's status hash, ARGV[2..] the folder's files now
-- Returns how many files were forgotten.
local now = {}
for i = 2, #ARGV do now[ARGV[i]] = true end
local gone = 0
for _, f in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if not now[f] then
        redis.call('ZREM', KEYS[2], f)
        redis.call('DEL', ARGV[1] .. f)
        gone = gone + 1
    end
end
redis.call('DEL', KEYS[1])
if #ARGV >= 2 then
    redis.call('SADD', KEYS[1], unpack(ARGV, 2))
end
return gone
