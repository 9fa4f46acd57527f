-- Takes back the items of a working status (PROCESSING, PRODUCING, ...) whose claimer's lock
-- has expired: the claimer died or hung, so nobody holds them. Each counts as a failed attempt
-- (fail_item: retried, or FAILED once the attempts run out) with the reason kept, so no item
-- stays in a working status with nobody holding it. Items waiting on a stage (handed on by
-- bb_handoff, held by nobody until a bb_take) are left alone.
-- ARGV: prefix, status, max attempts, how many of the oldest to look at, actor.
-- Returns the ids taken back.
local st, max, scan, by = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if not BB_ALLOWED[st] or not BB_ALLOWED[st]['FAILED'] then
  return redis.error_reply('items that are ' .. st .. ' cannot fail, so cannot be reclaimed')
end
local out = {}
local t = now_ms()
for _, id in ipairs(redis.call('ZRANGE', P .. 'st:' .. st, 0, scan - 1)) do
  local key = P .. 'item:' .. id
  local f = redis.call('HMGET', key, 'section', 'stage')
  local sec, stage = f[1], f[2]
  -- An item waiting on a stage (bb_handoff) is held by nobody on purpose.
  local waiting = stage and stage ~= '' and redis.call('ZSCORE', P .. 'stage:' .. stage, id)
  if not waiting and redis.call('EXISTS', P .. 'lock:' .. id) == 0 then
    if sec then
      fail_item(key, id, st, sec, max, by, 'its claimer lost the lock (died or hung)', t)
      out[#out + 1] = id
    end
  end
end
return out
