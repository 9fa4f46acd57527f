-- Read one debate, or a page of open (oldest first) or closed (newest first) debates, with
-- every vote. Ids whose debate has gone (expired) are dropped from the index on the way.
-- ARGV: prefix, 'one' | 'open' | 'closed', debate id (one) or limit (open, closed).
-- Returns {1, now, {full debate, ...}} or {0} for 'one' without the debate.
local mode = ARGV[2]
local t = now_ms()
if mode == 'one' then
  if redis.call('EXISTS', D .. ARGV[3]) == 0 then return {0} end
  return {1, t, {full(ARGV[3])}}
end
local index = mode == 'open' and OPEN or CLOSED
local n = tonumber(ARGV[3])
local ids
if mode == 'open' then
  ids = redis.call('ZRANGE', index, 0, n - 1)
else
  ids = redis.call('ZREVRANGE', index, 0, n - 1)
end
local out = {}
for _, id in ipairs(ids) do
  if redis.call('EXISTS', D .. id) == 0 then
    redis.call('ZREM', index, id)
  else
    out[#out + 1] = full(id)
  end
end
return {1, t, out}
