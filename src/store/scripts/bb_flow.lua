-- The flow in one read: every stage's depth and how many stories have left it so far
-- (nr:bb:flow drained:<stage>, counted by the scripts that move or take them), for the swarm's
-- heart (which turns the counts into rates) and the control room. The heart also publishes the
-- high-water marks its swarm enforces (nr:bb:flow hwm:<stage>), which the control room shows.
-- ARGV: prefix, '1' to publish the marks given, a hash to read along ('' for none), then four
--       per stage: name, the key of its depth, the field ('' : the key is a sorted set), its
--       high-water mark.
-- Returns {now ms, {depth, drained, published mark} per stage, the extra hash's HGETALL}.
local publish, extra = ARGV[2], ARGV[3]
local F = P .. 'flow'
local out = {}
for i = 4, #ARGV, 4 do
  local name, key, field, hwm = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local d = depth_of(key, field)
  if publish == '1' then redis.call('HSET', F, 'hwm:' .. name, hwm) end
  local f = redis.call('HMGET', F, 'drained:' .. name, 'hwm:' .. name)
  out[#out + 1] = d
  out[#out + 1] = tonumber(f[1] or '0') or 0
  out[#out + 1] = tonumber(f[2] or '-1') or -1
end
return {now_ms(), out, extra ~= '' and redis.call('HGETALL', extra) or {}}
