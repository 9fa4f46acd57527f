-- queue_giveback.lua - returns a task that a read handed to this consumer but that it will
-- not work on (a normal task that came in the same read as a breaking one): acknowledges and
-- deletes the entry and adds the same fields again at the end of its stream, so that any
-- worker can take it at once and its delivery is not counted.
-- KEYS[1] the stream
-- ARGV[1] group, ARGV[2] entry id, ARGV[3..] the entry's field/value pairs
-- Returns the new entry id.
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
