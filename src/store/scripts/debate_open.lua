-- Open the debate of a story, once. A debate closed as story_moved (its story left DEBATING
-- and has come back) opens afresh, without its old seats and votes; an open one past its
-- deadline gets a new deadline.
-- ARGV: prefix, story id, title, summary, panel, quorum, threshold, deadline (ms from now),
--       opened by, brief (the story's text), settle early ('1'/'0').
-- Returns {1, opened ms, deadline ms} when it opened one, {0, state} when it exists.
local id = ARGV[2]
local key = D .. id
local cur = redis.call('HMGET', key, 'state', 'outcome', 'deadline')
local t = now_ms()
if cur[1] == 'open' and tonumber(cur[3] or '0') <= t then
  -- Opened by an analyst that did not finish; the story's retry must not find the deadline
  -- already past: it gets a fresh one (the votes cast so far stay).
  redis.call('HSET', key, 'deadline', t + tonumber(ARGV[8]))
  wake('debate')
  return {0, 'open'}
end
if cur[1] and not (cur[1] == 'closed' and cur[2] == 'story_moved') then
  return {0, cur[1]}
end
local deadline = t + tonumber(ARGV[8])
redis.call('DEL', key, key .. ':votes', key .. ':seats')
redis.call('ZREM', CLOSED, id)
redis.call('HSET', key, 'story', id, 'title', ARGV[3], 'summary', ARGV[4], 'panel', ARGV[5],
           'quorum', ARGV[6], 'threshold', ARGV[7], 'opened', t, 'deadline', deadline,
           'by', ARGV[9], 'state', 'open', 'brief', ARGV[10], 'early', ARGV[11])
redis.call('ZADD', OPEN, t, id)
wake('debate')
return {1, t, deadline}
