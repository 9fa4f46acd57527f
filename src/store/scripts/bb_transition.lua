-- Change a blackboard item, all or nothing, after checking that the caller may.
-- ARGV: prefix, id, mode, target status, actor, reason, holder ("token:fence" or ''),
--       fencing number (or ''), release lock ('1'/'0'), then by mode:
--   move:   moves to the target status if the table allows it; a target "TO<FROM" moves only
--           an item that is FROM now; body field / JSON value pairs may follow, merged in the
--           same step
--   decide: like move, and records the decision's author and time (approve / reject); then
--           the audit stream's key, its cap, how many audit strings follow, the audit record's
--           field/value pairs (appended in the same step; nothing when the key is ''), and
--           body field / JSON value pairs merged in the same step
--   setback: kind ('attempt' or 'park'), max attempts of a step, backoff base ms, cap ms,
--           random share (millionths), wait ms (-1: the backoff), budget request waited for
--           ('' none), then body pairs: setback() in bb_lib.lua (a failed attempt at the
--           item's step, retried after a backoff or FAILED at the step's last attempt; or a
--           wait that counts nothing), the holder letting go, the pairs merged in the same step
--   patch:  pairs of body field name and JSON value ('null' deletes the field)
--   handoff: the target is a stage name, or "STATUS@stage" to move the item to STATUS too;
--           the pairs are merged, the item is queued on that stage (sorted set stage:<name>)
--           and the lock released. It needs the caller's live lock.
-- A caller that names a lock (holder) must still hold it: a lock that lapsed writes nothing,
-- even when nobody took the item since (its claim may have been taken back meanwhile).
-- Returns {1, version, from, to, section} or the refusal of refuse().
local id, mode, to, by, why = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local holder, fence, release = ARGV[7], ARGV[8], ARGV[9]
local key = P .. 'item:' .. id
local cur = redis.call('HMGET', key, 'status', 'section')
local from, sec = cur[1], cur[2]
if not from then return {0, 'no item ' .. id, '', '', ''} end
local bad = check_holder(key, id, holder, fence)
if bad then return refuse(key, bad) end
if holder ~= '' and redis.call('GET', P .. 'lock:' .. id) ~= holder then
  return refuse(key, 'the lock has lapsed (the claim may have been taken back)')
end
if mode == 'handoff' and holder == '' then
  return refuse(key, 'a hand-off needs the lock of the item')
end
-- "TO<FROM": only from that status. "STATUS@stage": a hand-off that moves too.
local want_from, stage_to = nil, nil
if mode == 'move' and string.find(to, '<', 1, true) then
  to, want_from = string.match(to, '^(.-)<(.*)$')
  if from ~= want_from then
    return refuse(key, id .. ' is ' .. from .. ', not ' .. want_from)
  end
end
if mode == 'handoff' then
  local st, sg = string.match(to, '^(.-)@(.*)$')
  if st then
    if BB_STATUS_SECTION[st] == nil or not BB_ALLOWED[from][st] then
      return refuse(key, 'cannot move ' .. id .. ' from ' .. from .. ' to ' .. st)
    end
    stage_to, to = st, sg
  end
end
-- Everything that could refuse is checked before the first write: a script is not rolled back.
if mode == 'decide' and ARGV[10] and ARGV[10] ~= '' then
  local kind = redis.call('TYPE', ARGV[10])['ok']
  if kind ~= 'stream' and kind ~= 'none' then
    return refuse(key, 'the audit stream ' .. ARGV[10] .. ' is a ' .. kind .. ', not a stream')
  end
end
if mode == 'setback' and not BB_ALLOWED[from]['FAILED'] then
  return refuse(key, 'cannot fail an item that is ' .. from)
end
if mode == 'handoff' and BB_TERMINAL[from] then
  return refuse(key, 'cannot hand on an item that is ' .. from)
end
local t = now_ms()
local v, tosec


if mode == 'handoff' then
  if stage_to then
    local v0, sec2 = move(key, id, from, sec, stage_to, by, why, t, 'move')
    from, sec = stage_to, sec2
  end
  apply_pairs(key, 10)
  unhold(key, id)
  redis.call('ZADD', P .. 'stage:' .. to, score_in(key, nil, t), id)
  v = redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, 'updated', t, 'by', by, 'reason', why, 'stage', to, 'owner', '')
  event({'k', 'handoff', 'id', id, 'from', from, 'to', from, 'sec', sec, 'v', v, 'by', by,
         'why', why, 'stage', to, 't', t})
  wake('stage:' .. to)
  to, tosec = from, sec
elseif mode == 'patch' then
  apply_pairs(key, 10)
  v = redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, 'updated', t, 'by', by)
  event({'k', 'update', 'id', id, 'from', from, 'to', from, 'sec', sec, 'v', v, 'by', by,
         'why', why, 't', t})
  to, tosec = from, sec
elseif mode == 'setback' then
  apply_pairs(key, 17)
  v, to, tosec = setback(key, id, from, sec, ARGV[10], by, why, t,
                         {max = tonumber(ARGV[11]), base = tonumber(ARGV[12]),
                          cap = tonumber(ARGV[13]), rnd = tonumber(ARGV[14]) / 1e6,
                          wait = tonumber(ARGV[15]), req = ARGV[16]})
else
  if BB_STATUS_SECTION[to] == nil then return refuse(key, 'unknown status ' .. to) end
  if not BB_ALLOWED[from][to] then
    return refuse(key, 'cannot move ' .. id .. ' from ' .. from .. ' to ' .. to)
  end
  -- The pairs first: a new priority places the story where it goes.
  if mode == 'move' then apply_pairs(key, 10) end
  v, tosec = move(key, id, from, sec, to, by, why, t, mode)
  if mode == 'decide' then
    redis.call('HSET', key, 'decided_by', by, 'decided_at', t)
    local naudit = tonumber(ARGV[12] or '0')
    if ARGV[10] and ARGV[10] ~= '' then
      redis.call('XADD', ARGV[10], 'MAXLEN', '~', ARGV[11], '*', unpack(ARGV, 13, 12 + naudit))
    end
    apply_pairs(key, 13 + naudit)
  end
  if to == 'ARCHIVED' then redis.call('HSET', key, 'archive_reason', why) end
end
if fence ~= '' then
  local seen = tonumber(redis.call('HGET', key, 'fence') or '0')
  if tonumber(fence) > seen then redis.call('HSET', key, 'fence', fence) end
end
if release == '1' and holder ~= '' and redis.call('GET', P .. 'lock:' .. id) == holder then
  unhold(key, id)
end
return {1, v, from, to, tosec}
