-- Items of a section and/or a status, oldest first, one page at a time.
-- ARGV: prefix, section ('' for any), status ('' for any), offset, limit.
-- Returns {next offset (or -1 at the end), item1, item2, ...}, each item the flat
-- HGETALL of its hash.
local sec, st, offset, limit = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local idx
if st ~= '' then idx = P .. 'st:' .. st elseif sec ~= '' then idx = P .. 'sec:' .. sec
else return redis.error_reply('query needs a section or a status') end
local out = {-1}
local pos = offset
local total = redis.call('ZCARD', idx)
while pos < total and #out - 1 < limit do
  local ids = redis.call('ZRANGE', idx, pos, pos + limit - 1)
  for _, id in ipairs(ids) do
    pos = pos + 1
    local key = P .. 'item:' .. id
    if sec == '' or st == '' or redis.call('HGET', key, 'section') == sec then
      local h = redis.call('HGETALL', key)
      if #h > 0 then out[#out + 1] = h end
      if #out - 1 == limit then break end
    end
  end
end
if pos < total then out[1] = pos end
return out
