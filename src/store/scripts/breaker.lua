-- Circuit breakers shared by every process (src/recovery/breaker.c): one hash per breaker,
-- changed only here, so two processes never disagree about a transition, and one event per
-- transition. Times are the server's clock.
-- Keys are built from the prefix, because the breakers a sync touches are only known from its
-- arguments; this is for a standalone Redis.
-- ARGV[1]  op: sync | reset
-- ARGV[2]  breaker hash prefix ("nr:breaker:")   ARGV[3] set of breakers ("nr:breakers")
-- ARGV[4]  events stream                          ARGV[5] events stream cap
-- sync:  ARGV[6..10] policy: failures, window ms, cooldown ms, trials, successes;
--        then per breaker 5 values: name, failures, trial successes, trial slots wanted, last
--        error. Returns {now, {name, state, ms until half-open, slots granted, transitions}...}
--        with transitions "from>to why" joined by newlines ("" for none).
-- reset: ARGV[6] name, ARGV[7] who, ARGV[8] audit stream, ARGV[9] audit cap, ARGV[10..] the
--        audit record's field/value pairs. Returns the state it had; an error reply when no
--        process ever reported that breaker.
local op, P, SET, EV, EVMAX = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function n(v) return tonumber(v or 0) or 0 end

-- Moves breaker name (hash key h) from state `from` to `to`, with its event. Returns the line
-- the caller logs.
local function move(h, name, from, to, why, failures)
  redis.call('HSET', h, 'state', to, 'changed_ms', now)
  if to == 'open' then
    redis.call('HSET', h, 'opened_ms', now, 'successes', 0, 'granted', 0)
    redis.call('HINCRBY', h, 'opens', 1)
  elseif to == 'half_open' then
    redis.call('HSET', h, 'round_ms', now, 'granted', 0, 'successes', 0)
  else
    redis.call('HSET', h, 'failures', 0, 'window_ms', now, 'successes', 0, 'granted', 0)
  end
  redis.call('ZADD', SET, now, name)
  redis.call('XADD', EV, 'MAXLEN', '~', EVMAX, '*', 'k', 'transition', 'name', name, 'from',
    from, 'to', to, 'why', why, 'failures', failures, 't', now)
  return from .. '>' .. to .. ' ' .. why
end

if op == 'reset' then
  local name = ARGV[6]
  local h = P .. name
  local st = redis.call('HGET', h, 'state')
  if not st then return redis.error_reply('NOBREAKER no breaker named ' .. name) end
  if st ~= 'closed' then
    move(h, name, st, 'closed', 'reset by ' .. ARGV[7], 0)
  else
    redis.call('HSET', h, 'failures', 0, 'window_ms', now)
  end
  local fields = {}
  for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('XADD', ARGV[8], 'MAXLEN', '~', ARGV[9], '*', unpack(fields))
  return st
end

local N, WINDOW, COOL, TRIALS, M = n(ARGV[6]), n(ARGV[7]), n(ARGV[8]), n(ARGV[9]), n(ARGV[10])
local out = {}
for i = 11, #ARGV - 4, 5 do
  local name, f, s, want, err = ARGV[i], n(ARGV[i + 1]), n(ARGV[i + 2]), n(ARGV[i + 3]),
    ARGV[i + 4]
  local h = P .. name
  local r = redis.call('HMGET', h, 'state', 'failures', 'window_ms', 'opened_ms', 'round_ms',
    'granted', 'successes')
  local st = r[1]
  local lines = {}
  if not st then
    st = 'closed'
    redis.call('HSET', h, 'name', name, 'state', st, 'failures', 0, 'window_ms', now,
      'changed_ms', now, 'opens', 0)
    redis.call('ZADD', SET, now, name)
    r = {st, '0', tostring(now), '0', '0', '0', '0'}
  end
  redis.call('HSET', h, 'p_failures', N, 'p_window_ms', WINDOW, 'p_cooldown_ms', COOL,
    'p_trials', TRIALS, 'p_successes', M)
  -- The cool-down is over: half-open, a first round of trials.
  if st == 'open' and now >= n(r[4]) + COOL then
    lines[#lines + 1] = move(h, name, st, 'half_open',
      'cool-down of ' .. math.floor(COOL / 1000) .. ' s over', 0)
    st, r[5], r[6], r[7] = 'half_open', tostring(now), '0', '0'
  end
  -- A round's trial slots that nobody used (their process died) come back after a cool-down.
  if st == 'half_open' and now >= n(r[5]) + COOL then
    redis.call('HSET', h, 'round_ms', now, 'granted', 0)
    r[6] = '0'
  end
  if f > 0 and err ~= '' then
    redis.call('HSET', h, 'last_error', err, 'last_failure_ms', now)
  end
  if f > 0 and st == 'closed' then
    local count = f
    if now - n(r[3]) <= WINDOW then
      count = n(r[2]) + f
    else
      redis.call('HSET', h, 'window_ms', now)
    end
    redis.call('HSET', h, 'failures', count)
    if count >= N then
      lines[#lines + 1] = move(h, name, st, 'open', count .. ' failure(s) within ' ..
        math.floor(WINDOW / 1000) .. ' s; last: ' .. err, count)
      st = 'open'
      r[4] = tostring(now)
    end
  elseif f > 0 and st == 'half_open' then
    lines[#lines + 1] = move(h, name, st, 'open', 'a trial call failed: ' .. err, f)
    st = 'open'
    r[4] = tostring(now)
  elseif s > 0 and st == 'half_open' then
    local got = redis.call('HINCRBY', h, 'successes', s)
    if got >= M then
      lines[#lines + 1] = move(h, name, st, 'closed', got .. ' trial call(s) succeeded', 0)
      st = 'closed'
    end
  end
  local granted = 0
  if st == 'half_open' and want > 0 then
    granted = math.min(want, math.max(TRIALS - n(redis.call('HGET', h, 'granted')), 0))
    if granted > 0 then redis.call('HINCRBY', h, 'granted', granted) end
  end
  local left = 0
  if st == 'open' then left = math.max(n(r[4]) + COOL - now, 0) end
  out[#out + 1] = {name, st, left, granted, table.concat(lines, '\n')}
end
return {now, out}
