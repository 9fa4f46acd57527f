-- The blackboard's shared Lua: prepended (after the generated status tables) to every
-- bb_*.lua script. ARGV[1] of every blackboard script is the key prefix ("nr:bb:").
-- Times come from the server's clock (TIME), so every machine of a swarm agrees.
local P = ARGV[1]
local EVENTS_MAX = 50000

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function event(fields)
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', EVENTS_MAX, '*', unpack(fields))
end

-- The doorbell: tells idle agents (a swarm's subscriber on P .. 'wake') that work may wait
-- for them: a status an item entered, 'stage:<name>', 'debate' or 'debate_full'. Nothing is
-- kept; an agent that misses a ring finds the work at its next poll.
local function wake(what)
  redis.call('PUBLISH', P .. 'wake', what)
end

-- Why the caller may not write item id, or nil when it may. holder is "token:fence" of the
-- caller's lock ('' for none), fence its fencing number ('' for none).
local function check_holder(key, id, holder, fence)
  local lock = redis.call('GET', P .. 'lock:' .. id)
  if lock and lock ~= holder then
    return 'locked by another holder'
  end
  if fence ~= '' then
    local seen = tonumber(redis.call('HGET', key, 'fence') or '0')
    if tonumber(fence) < seen then
      return 'stale fencing number ' .. fence .. ' (a later lock, ' .. seen ..
             ', was granted after this one expired)'
    end
  end
  return nil
end

-- Moves item id from status `from` (in section sec) to status `to`: indexes, counts,
-- version, fields and one event, all inside the calling script. Returns the new version
-- and the new section.
local function move(key, id, from, sec, to, by, why, t, kind)
  local tosec = BB_STATUS_SECTION[to]
  if tosec == false then tosec = sec end
  if from ~= to then
    redis.call('ZREM', P .. 'st:' .. from, id)
    redis.call('ZADD', P .. 'st:' .. to, t, id)
  end
  if tosec ~= sec then
    redis.call('ZREM', P .. 'sec:' .. sec, id)
    redis.call('ZADD', P .. 'sec:' .. tosec, t, id)
  end
  redis.call('HINCRBY', P .. 'counts', sec .. '/' .. from, -1)
  redis.call('HINCRBY', P .. 'counts', tosec .. '/' .. to, 1)
  local v = redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, 'status', to, 'section', tosec, 'updated', t, 'by', by, 'reason', why)
  event({'k', kind, 'id', id, 'from', from, 'to', to, 'sec', tosec, 'v', v, 'by', by,
         'why', why, 't', t})
  wake(to)
  return v, tosec
end

-- The refusal reply: {0, reason, current status, last actor, last update time}.
local function refuse(key, reason)
  local f = redis.call('HMGET', key, 'status', 'by', 'updated')
  return {0, reason, f[1] or '', f[2] or '', f[3] or ''}
end

-- Counts a failed attempt at item id (status from, section sec): below max attempts it goes
-- to its status's retry status (or stays), at max it becomes FAILED with the reason kept.
-- The caller has checked that FAILED is allowed from `from`. Returns version, status, section.
local function fail_item(key, id, from, sec, max, by, why, t)
  local to
  if redis.call('HINCRBY', key, 'attempts', 1) >= max then
    to = 'FAILED'
  else
    to = BB_RETRY[from] or from
  end
  local v, tosec = move(key, id, from, sec, to, by, why, t, to == 'FAILED' and 'failed' or 'retry')
  redis.call('HSET', key, 'fail_reason', why)
  return v, to, tosec
end
