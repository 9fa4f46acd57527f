-- room_failed.lua - one page of the dead set (the FAILED stories) for the control room's
-- Failed pane, searched on the server so that every failed story is reachable however many
-- there are: the FAILED index is read newest failure first (ids and the time each entered
-- FAILED), narrowed by a filter (id, title, the step that failed and the last error, ASCII case
-- folded), and only the page asked for is returned. Reads only, through the existing index
-- (src/room/room_failed.c); lib/room_lib.lua comes first.
-- ARGV: blackboard prefix (nr:bb:), the FAILED status name, filter ("" for none), offset, limit
-- Returns {now_ms, total failed, total matching, offset, rows}: each row
--   {id, failed ms (when it entered FAILED), title, the step that failed ('' when the story
--   does not say: the caller reads its checkpoints), attempts, the last error}
local bb, failed = ARGV[1], ARGV[2]
local filter, offset, limit = string.lower(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
local index = bb .. 'st:' .. failed
local total = redis.call('ZCARD', index)

local function fields(id)
  return redis.call('HMGET', bb .. 'item:' .. id, 'f:title', 'failed_step', 'attempts',
                    'fail_reason', 'status')
end

local rows, total_match = {}, 0
if filter == '' then
  local ids = redis.call('ZREVRANGE', index, offset, offset + limit - 1, 'WITHSCORES')
  for i = 1, #ids, 2 do rows[#rows + 1] = {ids[i], ids[i + 1], fields(ids[i])} end
  total_match = total
else
  local all = redis.call('ZREVRANGE', index, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local h = fields(all[i])
    local hay = string.lower(all[i] .. '\n' .. text(decode(h[1])) .. '\n' .. (h[2] or '') ..
                             '\n' .. (h[4] or ''))
    if string.find(hay, filter, 1, true) then
      total_match = total_match + 1
      if total_match > offset and #rows < limit then rows[#rows + 1] = {all[i], all[i + 1], h} end
    end
  end
end

local out = {}
for _, e in ipairs(rows) do
  local h = e[3]
  -- An index entry whose story moved on meanwhile is left out.
  if h[5] == failed then
    out[#out + 1] = {e[1], e[2], text(decode(h[1])), h[2] or '', h[3] or '0', h[4] or ''}
  end
end
return {now, total, total_match, offset, out}
