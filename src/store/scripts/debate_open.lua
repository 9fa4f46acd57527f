-- Open the debate of a story, once. A debate closed as story_moved (its story left DEBATING
-- and has come back) opens afresh, without its old seats and votes; an open one past its
-- deadline gets a new deadline.
-- The deadline is `span` ms from the first seat (debate_seat.lua), so a debate that waits for a
-- free debater loses no time. A new debate is announced with the DEBATE_INVITE message given
-- (published in the same step: no round trip of its own).
-- ARGV: prefix, story id, title, summary, panel, quorum, threshold, deadline (ms from the
--       first seat), opened by, brief (the story's text), settle early ('1'/'0'), the invite's
--       channel and message ('' for none), '1' to open afresh a debate closed with any outcome
--       (its story was requeued to be debated again), the story's priority.
-- Returns {1, opened ms, deadline ms} when it opened one, {0, state} when it exists.
local id = ARGV[2]
local key = D .. id
local cur = redis.call('HMGET', key, 'state', 'outcome', 'deadline')
local t = now_ms()
if cur[1] == 'open' and tonumber(cur[3] or '0') <= t then
  -- Opened by an analyst that did not finish; the story's retry must not find the deadline
  -- already past: it gets a fresh one (the votes cast so far stay).
  redis.call('HSET', key, 'deadline', t + tonumber(ARGV[8]))
  redis.call('HDEL', key, 'paused')
  wake('debate')
  return {0, 'open'}
end
if cur[1] and not (cur[1] == 'closed' and (cur[2] == 'story_moved' or ARGV[14] == '1')) then
  return {0, cur[1]}
end
local deadline = t + tonumber(ARGV[8])
redis.call('DEL', key, key .. ':votes', key .. ':seats')
redis.call('ZREM', CLOSED, id)
redis.call('HSET', key, 'story', id, 'title', ARGV[3], 'summary', ARGV[4], 'panel', ARGV[5],
           'quorum', ARGV[6], 'threshold', ARGV[7], 'opened', t, 'deadline', deadline,
           'by', ARGV[9], 'state', 'open', 'brief', ARGV[10], 'early', ARGV[11],
           'span', ARGV[8])
-- Open debates are the debaters' queue: by the story's priority, then oldest (as the
-- blackboard's queues are: a point of priority outweighs any wait, see bb_lib.lua).
redis.call('ZADD', OPEN, t - math.floor(tonumber(ARGV[15] or '0') or 0) * 1e10, id)
wake('debate')
if ARGV[12] and ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[12], ARGV[13]) end
return {1, t, deadline}
