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

-- Editorial priority: every queue a claim takes from (the status indexes of the statuses that
-- are neither terminal nor a person's, and every stage) is ordered by priority, then by time:
-- a story's score is the time it entered (or became due) less PRIO_STEP per point of its
-- priority (the item's 'prio', from the body's "priority"), so a claim still takes the first
-- entry that is due, in one step. PRIO_STEP is longer than any story waits, so a higher
-- priority always comes first. An entry that is not due yet (a retry's backoff, a park) waits
-- above everything, at WAIT_BASE + when it is due, and is moved into place when a claim
-- finds it due (promote). Scores stay below 1e14, exact when Lua prints them.
local PRIO_STEP = 1e10
local WAIT_BASE = 1e13
-- A person's queue keeps the order stories came in: the review desk sorts it, and its age is
-- what review expiry and the oldest waiting time read.
local TIME_ORDERED = {REVIEWING = true}

-- The score of item key entering (or due in) a queue at time t: st the status of a status
-- index, nil for a stage.
local function score_in(key, st, t)
  if st and (BB_TERMINAL[st] or TIME_ORDERED[st]) then return t end
  local p = tonumber(redis.call('HGET', key, 'prio') or '0') or 0
  return t - math.floor(p) * PRIO_STEP
end

-- Moves the entries of queue idx (of status st, nil for a stage) that have become due by t
-- into their place by priority.
local function promote(idx, st, t)
  local due = redis.call('ZRANGEBYSCORE', idx, WAIT_BASE, WAIT_BASE + t, 'WITHSCORES', 'LIMIT',
                         0, 100)
  for i = 1, #due, 2 do
    local when = tonumber(due[i + 1]) - WAIT_BASE
    redis.call('ZADD', idx, score_in(P .. 'item:' .. due[i], st, when), due[i])
  end
end

-- Counts a story leaving a flow stage (its queue: a status or 'stage:name'): the drain the
-- swarm's heart turns into a rate (nr:bb:flow, drained:<stage>). When a claim was held at that
-- stage's mark since the last drain (held:<stage>, gate_full), the doorbell rings
-- 'drained:<stage>': the held agents try again now, not at their next poll.
local function drained(queue)
  local f = BB_FLOW_OF[queue]
  if f then
    redis.call('HINCRBY', P .. 'flow', 'drained:' .. f, 1)
    if redis.call('HDEL', P .. 'flow', 'held:' .. f) == 1 then wake('drained:' .. f) end
  end
end

-- Moves item id from status `from` (in section sec) to status `to`: indexes, counts,
-- version, fields and one event, all inside the calling script. Returns the new version
-- and the new section.
local function move(key, id, from, sec, to, by, why, t, kind)
  local tosec = BB_STATUS_SECTION[to]
  if tosec == false then tosec = sec end
  if from ~= to then
    redis.call('ZREM', P .. 'st:' .. from, id)
    redis.call('ZADD', P .. 'st:' .. to, score_in(key, to, t), id)
    drained(from)
  end
  if tosec ~= sec then
    redis.call('ZREM', P .. 'sec:' .. sec, id)
    redis.call('ZADD', P .. 'sec:' .. tosec, t, id)
  end
  redis.call('HINCRBY', P .. 'counts', sec .. '/' .. from, -1)
  redis.call('HINCRBY', P .. 'counts', tosec .. '/' .. to, 1)
  local v = redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, 'status', to, 'section', tosec, 'updated', t, 'by', by, 'reason', why,
             'entered', t)
  event({'k', kind, 'id', id, 'from', from, 'to', to, 'sec', tosec, 'v', v, 'by', by,
         'why', why, 't', t})
  wake(to)
  return v, tosec
end

-- Merges the body field / JSON value pairs ARGV[first..] into item key ('null' deletes). A
-- "priority" (a number) is the item's 'prio' too: where it waits next.
local function apply_pairs(key, first)
  for i = first, #ARGV, 2 do
    if ARGV[i + 1] == 'null' then
      redis.call('HDEL', key, 'f:' .. ARGV[i])
    else
      redis.call('HSET', key, 'f:' .. ARGV[i], ARGV[i + 1])
    end
    if ARGV[i] == 'priority' then
      redis.call('HSET', key, 'prio', math.floor(tonumber(ARGV[i + 1]) or 0))
    end
  end
end

-- The refusal reply: {0, reason, current status, last actor, last update time}.
local function refuse(key, reason)
  local f = redis.call('HMGET', key, 'status', 'by', 'updated')
  return {0, reason, f[1] or '', f[2] or '', f[3] or ''}
end

-- Claims belong to agents. The agent holding an item's lock is its owner, and every item an
-- agent holds is in the set P .. 'held:' .. agent, so that when the agent dies (bb_reap.lua)
-- all of them go back at once, and its heartbeat keeps their locks alive (registry_pulse.lua).
-- `step` names the work the claim does (attempts are counted per step); `back` says where the
-- item returns when the claim is taken back or retried: 'st:STATUS' (moved back to that
-- status), 'stage:NAME' (queued on that stage, its status kept) or '' (left where it is: a
-- lock that did not move it). Returns the fencing number.
local function hold(key, id, by, token, ttl, step, back)
  local fence = redis.call('INCR', P .. 'fence')
  redis.call('SET', P .. 'lock:' .. id, token .. ':' .. fence, 'PX', ttl)
  redis.call('SADD', P .. 'held:' .. by, id)
  redis.call('HSET', key, 'owner', by, 'fence', fence, 'step', step, 'back', back, 'due', 0)
  if redis.call('HDEL', key, 'wait_req') == 1 then redis.call('SREM', P .. 'budget_wait', id) end
  return fence
end

-- Lets go of item id's lock and of its place among its owner's claims.
local function unhold(key, id)
  redis.call('DEL', P .. 'lock:' .. id)
  local owner = redis.call('HGET', key, 'owner')
  if owner and owner ~= '' then redis.call('SREM', P .. 'held:' .. owner, id) end
end

-- A score that puts item key at the front of queue idx (of status st, nil for a stage):
-- before everything due in it, and due.
local function front(idx, key, st, t)
  local first = redis.call('ZRANGE', idx, 0, 0, 'WITHSCORES')
  local s = score_in(key, st, t)
  if first[2] and tonumber(first[2]) < s then s = tonumber(first[2]) end
  return s - 1
end

-- Where a story in status `from` waits to be taken again: its claim's 'back', else the stage
-- or status its claim came from by the table (BB_RESUME, BB_RETRY), else where it is.
local function back_of(key, from)
  local back = redis.call('HGET', key, 'back') or ''
  if back ~= '' then return back end
  if BB_RESUME[from] then return 'stage:' .. BB_RESUME[from] end
  if BB_RETRY[from] then return 'st:' .. BB_RETRY[from] end
  return ''
end

-- Puts item id (status from, section sec; nobody holds it any more) back in the queue it waits
-- in (back_of), due at `due` (nil: at the front, now). Claims skip it until it is due (they
-- take only entries scored at most the server's time). One event of `kind`. Returns the
-- version, the status and the section it ends in.
local function place(key, id, from, sec, due, by, why, t, kind)
  local back = back_of(key, from)
  local to, tosec, v = from, sec, nil
  local idx, ring, st
  if string.sub(back, 1, 6) == 'stage:' then
    local stage = string.sub(back, 7)
    idx, ring = P .. 'stage:' .. stage, 'stage:' .. stage
    redis.call('HSET', key, 'stage', stage)
  else
    if string.sub(back, 1, 3) == 'st:' then to = string.sub(back, 4) end
    if to ~= from then
      v, tosec = move(key, id, from, sec, to, by, why, t, kind)
    end
    idx, ring, st = P .. 'st:' .. to, to, to
  end
  local score
  if due == nil then
    score = front(idx, key, st, t)
  elseif due > t then
    score = WAIT_BASE + due
  else
    score = score_in(key, st, due)
  end
  redis.call('ZADD', idx, score, id)
  if not v then
    v = redis.call('HINCRBY', key, 'version', 1)
    redis.call('HSET', key, 'updated', t, 'by', by, 'reason', why)
    event({'k', kind, 'id', id, 'from', from, 'to', to, 'sec', tosec, 'v', v, 'by', by,
           'why', why, 'stage', string.sub(back, 1, 6) == 'stage:' and string.sub(back, 7) or '',
           'due', due or t, 't', t})
  end
  redis.call('HSET', key, 'due', (due and due > t) and due or 0)
  if not (due and due > t) then wake(ring) end
  return v, to, tosec
end

-- The wait before retry n of a step: base doubling to cap, the second half of it random
-- (rnd in 0..1), so that many stories failed by one fault do not come back in step.
local function backoff(n, base, cap, rnd)
  if base <= 0 then return 0 end
  local d = base * math.pow(2, math.min(n - 1, 40))
  if d > cap then d = cap end
  return math.floor(d / 2 + rnd * d / 2)
end

-- Sets an item back (its holder, if any, lets go): kind 'attempt' counts a failed attempt at
-- its step (kept in the body's "errors" with step, agent, error, time; at pol.max attempts of
-- that step it is FAILED, the reason kept, and waits there for an operator's requeue), 'park'
-- waits without counting (an outage, an empty budget, a full disk, a halt: pol.wait ms, or the
-- step's park backoff when -1; wait_req names the budget request it waits for), 'reclaim'
-- takes it back from a claimer that died (at the front, at once, nothing counted unless it was
-- taken back more than pol.reclaims times). pol = {max, base, cap, rnd, wait, req, reclaims}. The caller has checked that the item may fail.
-- Returns version, status, section.
local function setback(key, id, from, sec, kind, by, why, t, pol)
  local step = redis.call('HGET', key, 'step') or ''
  if step == '' then step = string.lower(from) end
  local due = nil
  if kind == 'reclaim' then
    -- A story whose claimers keep dying may be what kills them: past pol.reclaims takings
    -- back, each one counts as an attempt of its step.
    local r = redis.call('HINCRBY', key, 'reclaims', 1)
    if (pol.reclaims or 0) > 0 and r > pol.reclaims then
      kind = 'attempt'
      why = why .. ' (taken back ' .. r .. ' times: counted as an attempt)'
    end
  end
  if kind == 'attempt' then
    local n = redis.call('HINCRBY', key, 'att:' .. step, 1)
    redis.call('HINCRBY', key, 'attempts', 1)
    local ok, h = pcall(cjson.decode, redis.call('HGET', key, 'f:errors') or '[]')
    if not ok or type(h) ~= 'table' then h = {} end
    h[#h + 1] = {step = step, agent = by, error = why, t = t, attempt = n}
    redis.call('HSET', key, 'f:errors', cjson.encode(h), 'fail_reason', why)
    if n >= pol.max then
      unhold(key, id)
      local stage = redis.call('HGET', key, 'stage')
      if stage and stage ~= '' then redis.call('ZREM', P .. 'stage:' .. stage, id) end
      local v, tosec = move(key, id, from, sec, 'FAILED', by, why, t, 'failed')
      redis.call('HSET', key, 'failed_step', step, 'due', 0)
      if redis.call('HDEL', key, 'wait_req') == 1 then redis.call('SREM', P .. 'budget_wait', id) end
      return v, 'FAILED', tosec
    end
    due = t + backoff(n, pol.base, pol.cap, pol.rnd)
  elseif kind == 'park' then
    local n = redis.call('HINCRBY', key, 'park:' .. step, 1)
    redis.call('HINCRBY', key, 'parks', 1)
    if pol.wait >= 0 then due = t + pol.wait else due = t + backoff(n, pol.base, pol.cap, pol.rnd) end
    redis.call('HSET', key, 'parked', why)
    if pol.req and pol.req ~= '' then
      redis.call('HSET', key, 'wait_req', pol.req)
      redis.call('SADD', P .. 'budget_wait', id)
    end
  end
  unhold(key, id)
  return place(key, id, from, sec, due, by, why, t, kind == 'attempt' and 'retry' or kind)
end

-- A flow stage's depth, kept at key: field '' when key is a sorted set (its size), else a hash
-- field of it (such as nr:bb:counts SECTION/STATUS).
local function depth_of(key, field)
  if field == '' then return redis.call('ZCARD', key) end
  return tonumber(redis.call('HGET', key, field) or '0') or 0
end

-- Notes that a claim was held at the flow stage whose depth is at key and field (a stage's
-- sorted set P .. 'stage:name', field ''; else the counts hash, field 'SECTION/STATUS'), so that
-- the stage's next drain rings for it (drained).
local function held_at(key, field)
  local f
  if field == '' then
    f = BB_FLOW_OF[string.sub(key, #P + 1)]
  else
    f = BB_FLOW_OF[string.match(field, '/(.+)$') or '']
  end
  if f then redis.call('HSET', P .. 'flow', 'held:' .. f, 1) end
end

-- Backpressure: whether the queue a claim would feed is full. A gate is the key of its depth,
-- its field (see depth_of) and its high-water mark (0: none). Returns the depth when full, else
-- nil.
local function gate_full(key, field, hwm)
  hwm = tonumber(hwm) or 0
  if hwm <= 0 or key == '' then return nil end
  local d = depth_of(key, field)
  if d < hwm then return nil end
  held_at(key, field)
  return d
end

-- "2h 5m", "45m 3s", "12s": a span of ms for a reason a person reads.
local function span(ms)
  local s = math.floor(ms / 1000)
  if s >= 3600 then return math.floor(s / 3600) .. 'h ' .. math.floor(s % 3600 / 60) .. 'm' end
  if s >= 60 then return math.floor(s / 60) .. 'm ' .. (s % 60) .. 's' end
  return s .. 's'
end

-- How long item key has waited on its way before production, when that is more than limit ms
-- (0: no limit) at time t; else nil. The clock starts when the story entered the blackboard
-- ('since': an operator's requeue starts it again).
local function stale_for(key, limit, t)
  limit = tonumber(limit) or 0
  if limit <= 0 then return nil end
  local f = redis.call('HMGET', key, 'since', 'created')
  local since = tonumber(f[1] or f[2] or '')
  if since and t - since > limit then return t - since end
  return nil
end

-- Archives item id (status from, section sec; nobody holds it) for the system: stale before
-- production, not reviewed in time. Its place on a stage and among the budget waits goes too.
-- why is the archive reason; the audit record (user 'system', from the actor, what 'expire',
-- note as its reason) goes to the stream audit (capped at cap) in the same step, unless audit
-- is ''. Returns the version.
local function expire(key, id, from, sec, why, note, by, t, audit, cap)
  local stage = redis.call('HGET', key, 'stage')
  if stage and stage ~= '' then redis.call('ZREM', P .. 'stage:' .. stage, id) end
  local v = move(key, id, from, sec, 'ARCHIVED', by, why, t, 'expire')
  redis.call('HSET', key, 'archive_reason', why, 'stage', '', 'due', 0)
  if redis.call('HDEL', key, 'wait_req') == 1 then redis.call('SREM', P .. 'budget_wait', id) end
  if audit and audit ~= '' then
    redis.call('XADD', audit, 'MAXLEN', '~', cap, '*', 'user', 'system', 'from', by, 'time_ms',
               t, 'what', 'expire', 'item', id, 'reason', note)
  end
  return v
end

-- The stale story key (status from): archived with its reason and audited. Returns true when
-- it was stale.
local function expire_stale(key, id, from, sec, limit, by, t, audit, cap)
  local waited = stale_for(key, limit, t)
  if not waited then return false end
  local why = 'stale: waited ' .. span(waited) .. ' before production (the limit is ' ..
              span(tonumber(limit)) .. ')'
  expire(key, id, from, sec, why, why, by, t, audit, cap)
  return true
end

-- Claims the first due, unlocked item of status `from` (highest priority, then oldest; among
-- the first `scan`), moving it to `to` for actor `by` under lock token/ttl with the claim's
-- step and back (hold); a stale story met on the way is archived instead (expire_stale, when
-- `from` may be archived). Returns the item's key, id, fencing number and new version, or nil
-- when none could be taken.
local function claim_first(from, to, by, token, ttl, scan, step, back, t, stale, audit, cap)
  local idx = P .. 'st:' .. from
  promote(idx, from, t)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', idx, '-inf', t, 'LIMIT', 0, scan)) do
    if redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
      local key = P .. 'item:' .. id
      local sec = redis.call('HGET', key, 'section')
      if not BB_ALLOWED[from]['ARCHIVED'] or
         not expire_stale(key, id, from, sec, stale, by, t, audit, cap) then
        local fence = hold(key, id, by, token, ttl, step, back)
        return key, id, fence, move(key, id, from, sec, to, by, 'claimed', t, 'claim')
      end
    end
  end
  return nil
end
