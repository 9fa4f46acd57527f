-- One early stop: its record on the stops stream and the counters, together.
-- KEYS[1]  the stops stream    KEYS[2]  the counters hash
-- ARGV[1] agent, ARGV[2] task, ARGV[3] reason (low_quality | good_enough), ARGV[4] confidence,
-- ARGV[5] calls not made, ARGV[6] their estimated cost (micro-dollars), ARGV[7] now (ms),
-- ARGV[8] the stream's approximate cap.
-- Returns the stops counted for that reason so far.
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[8], '*', 'agent', ARGV[1], 'task', ARGV[2],
  'reason', ARGV[3], 'conf', ARGV[4], 'calls_saved', ARGV[5], 'saved', ARGV[6], 't', ARGV[7])
redis.call('HINCRBY', KEYS[2], 'calls_saved', ARGV[5])
redis.call('HINCRBY', KEYS[2], 'saved', ARGV[6])
return redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
