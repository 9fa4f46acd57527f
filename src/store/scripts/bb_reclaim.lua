-- The last resort for claims whose owner cannot be told (bb_reap.lua takes back those of dead
-- agents at once): takes back the items of a working status (PROCESSING, PRODUCING, ...) whose
-- claimer's lock has expired, so no item stays in a working status with nobody holding it.
-- Each goes back to the front of the queue its claim came from (setback 'reclaim': no attempt
-- counted; past the reclaims allowed, one is). Items waiting on a stage (handed on, retried,
-- parked: held by nobody until a bb_take) are left alone.
-- ARGV: prefix, status, max attempts of a step, how many of the oldest to look at, actor,
--       reclaims allowed before each counts an attempt (0: never), backoff base ms, cap ms,
--       random share (millionths).
-- Returns the ids taken back.
local st, max, scan, by = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if not BB_ALLOWED[st] or not BB_ALLOWED[st]['FAILED'] then
  return redis.error_reply('items that are ' .. st .. ' cannot fail, so cannot be reclaimed')
end
local pol = {max = max, reclaims = tonumber(ARGV[6]), base = tonumber(ARGV[7]),
             cap = tonumber(ARGV[8]), rnd = tonumber(ARGV[9]) / 1e6, wait = -1, req = ''}
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
    local f = redis.call('HMGET', key, 'section', 'stage', 'owner')
    local sec, stage = f[1], f[2]
    -- An item waiting on a stage is held by nobody on purpose.
    local waiting = stage and stage ~= '' and redis.call('ZSCORE', P .. 'stage:' .. stage, id)
    if not waiting then
      looked = looked + 1
      if redis.call('EXISTS', P .. 'lock:' .. id) == 0 and sec then
        local v, to = setback(key, id, st, sec, 'reclaim', by,
                              'taken back: the lock of its claimer ' .. (f[3] or '?') ..
                              ' lapsed (died or hung)', t, pol)
        out[#out + 1] = id
        if to ~= st then from = from - 1 end -- it left the status: the next page starts earlier
      end
      if looked >= scan then break end
    end
  end
end
return out
