-- Items of a section and/or a status, oldest first, one page at a time.
-- ARGV: prefix, section ('' for any), status ('' for any), cursor ('' from the start, else
--       "<score>:<id>" of the last item of the previous page), limit.
-- Returns {next cursor ('' at the end), item1, item2, ...}, each item the flat HGETALL of
-- its hash. The cursor is a position in the index's order (time entered, then id), not a
-- count, so items that move in or out between pages never make a page skip or repeat one.
local sec, st, cursor, limit = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local idx
if st ~= '' then idx = P .. 'st:' .. st elseif sec ~= '' then idx = P .. 'sec:' .. sec
else return redis.error_reply('query needs a section or a status') end
local after_score, after_id = nil, nil
local pos = 0
if cursor ~= '' then
  local colon = string.find(cursor, ':', 1, true)
  if not colon then return redis.error_reply('bad cursor ' .. cursor) end
  after_score = tonumber(string.sub(cursor, 1, colon - 1))
  after_id = string.sub(cursor, colon + 1)
  if not after_score then return redis.error_reply('bad cursor ' .. cursor) end
  pos = redis.call('ZCOUNT', idx, '-inf', '(' .. after_score)
end
local out = {''}
local total = redis.call('ZCARD', idx)
local last = nil
while pos < total and #out - 1 < limit do
  local page = redis.call('ZRANGE', idx, pos, pos + limit - 1, 'WITHSCORES')
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local id, score = page[i], tonumber(page[i + 1])
    pos = pos + 1
    -- Equal scores are ordered by id: skip those up to the cursor's.
    if after_score == nil or score > after_score or (score == after_score and id > after_id) then
      local key = P .. 'item:' .. id
      if sec == '' or st == '' or redis.call('HGET', key, 'section') == sec then
        local h = redis.call('HGETALL', key)
        if #h > 0 then
          out[#out + 1] = h
          last = page[i + 1] .. ':' .. id
        end
      end
      if #out - 1 == limit then break end
    end
  end
end
if pos < total and last then out[1] = last end
return out
