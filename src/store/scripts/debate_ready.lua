-- Lease to a moderator the oldest open debate whose votes fill its panel or settle it already
-- (decided()) or whose clock has run out (it started with its first seat, is not paused, and
-- its deadline has passed), and that no moderator holds a live lease on (its own included: a
-- debate a moderator put aside waits until that lease lapses).
-- ARGV: prefix, moderator, lease ms, how many of the oldest open debates to look at.
-- Returns {1, now, full debate} or {0}.
local who, lease, scan = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local t = now_ms()
for _, id in ipairs(redis.call('ZRANGE', OPEN, 0, scan - 1)) do
  local key = D .. id
  local f = redis.call('HMGET', key, 'state', 'deadline', 'panel', 'lease', 'lease_until',
                       'started', 'paused')
  if f[1] ~= 'open' then
    redis.call('ZREM', OPEN, id)
  elseif not f[4] or tonumber(f[5] or '0') <= t then
    -- A debate nobody has sat at has not started its clock: past the deadline it would have had,
    -- it is only for a moderator when its story is not DEBATING (moved away, or not there yet).
    local late = t >= tonumber(f[2]) and
                 ((f[6] and not f[7]) or
                  (not f[6] and redis.call('HGET', P .. 'bb:item:' .. id, 'status') ~= 'DEBATING'))
    if late or decided(key) then
      redis.call('HSET', key, 'lease', who, 'lease_until', t + lease)
      return {1, t, full(id)}
    end
  end
end
return {0}
