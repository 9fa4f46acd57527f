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
-- Items waiting on a stage do not count toward scan, so a crowd of them never hides an
-- expired claim behind them: page through the status until scan candidates were looked at.
-- Bounded all the same (at most 8 x scan items examined), so a crowd waiting behind a stalled
-- stage never makes one call hold the server for long.
local looked, from, page, examined = 0, 0, 64, 0
while looked < scan and examined < scan * 8 do
  local ids = redis.call('ZRANGE', P .. 'st:' .. st, from, from + page - 1)
  if #ids == 0 then break end
  from = from + #ids
  for _, id in ipairs(ids) do
    examined = examined + 1
    local key = P .. 'item:' .. id
    local f = redis.call('HMGET', key, 'section', 'stage')
    local sec, stage = f[1], f[2]
    -- An item waiting on a stage (bb_handoff) is held by nobody on purpose.
    local waiting = stage and stage ~= '' and redis.call('ZSCORE', P .. 'stage:' .. stage, id)
    if not waiting then
      looked = looked + 1
      if redis.call('EXISTS', P .. 'lock:' .. id) == 0 and sec then
        fail_item(key, id, st, sec, max, by, 'its claimer lost the lock (died or hung)', t)
        out[#out + 1] = id
        from = from - 1 -- it left the status: the next page starts one earlier
      end
      if looked >= scan then break end
    end
  end
end
return out
