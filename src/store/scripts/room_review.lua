-- room_review.lua - one page of the review queue for the control room, searched and sorted on
-- the server so that every waiting story is reachable however many wait: the whole REVIEWING
-- index is read (ids and the time each entered), narrowed by a filter (id, title and source,
-- ASCII case folded), sorted, and only the page asked for is returned with what a reviewer
-- weighs. Reads only, through the existing indexes (src/room/room_review.c); lib/room_lib.lua
-- comes first.
-- ARGV: blackboard prefix (nr:bb:), cost prefix (nr:cost:), the REVIEWING status name,
--       sort (oldest | newest | priority | qa | cost), filter ("" for none), offset, limit
-- Returns {now_ms, total waiting, total matching, offset, any priority (1/0), rows}: each row
--   {id, entered ms, title, package duration_s ('' when none), last QA score ('' when none),
--   spent:t of the story's task budget (µ$), priority ('' when none), marks, source}
--   marks: 'V' a rendered video, 'S' a storyboard only, 'R' revised (it came back from a
--   reviewer's revise), in that order.
local bb, cost, reviewing, sort = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local filter, offset, limit = string.lower(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()
local index = bb .. 'st:' .. reviewing

local function qa_score(key)
  local qa = field(key, 'qa')
  if type(qa) == 'table' and #qa > 0 and type(qa[#qa]) == 'table' then
    return tonumber(qa[#qa]['score'])
  end
  return nil
end

local function spent(id)
  return tonumber(redis.call('HGET', cost .. 'task:' .. id, 'spent:t') or '0') or 0
end

local total = redis.call('ZCARD', index)
local rows, ids, total_match = {}, nil, 0
local any_priority = 0

-- The plain orders need no scan: the index is already by time entered.
if filter == '' and (sort == 'oldest' or sort == 'newest') then
  if sort == 'oldest' then
    ids = redis.call('ZRANGE', index, offset, offset + limit - 1, 'WITHSCORES')
  else
    ids = redis.call('ZREVRANGE', index, offset, offset + limit - 1, 'WITHSCORES')
  end
  local page = {}
  for i = 1, #ids, 2 do page[#page + 1] = {ids[i], tonumber(ids[i + 1])} end
  rows = page
  total_match = total
else
  local all = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
  local keep = {}
  for i = 1, #all, 2 do
    local id, entered = all[i], tonumber(all[i + 1])
    local key = bb .. 'item:' .. id
    local pass = true
    if filter ~= '' then
      local h = redis.call('HMGET', key, 'f:title', 'f:source')
      local hay = string.lower(id .. '\n' .. text(decode(h[1])) .. '\n' .. text(decode(h[2])))
      pass = string.find(hay, filter, 1, true) ~= nil
    end
    if pass then
      local e = {id, entered}
      if sort == 'priority' then
        local p = tonumber(field(key, 'priority'))
        if p then any_priority = 1 end
        e[3] = p or 0
      elseif sort == 'qa' then
        e[3] = qa_score(key) or -1
      elseif sort == 'cost' then
        e[3] = spent(id)
      end
      keep[#keep + 1] = e
    end
  end
  -- Highest first for priority, QA score and cost; ties (and the plain orders) by time.
  if sort == 'newest' then
    table.sort(keep, function(a, b) return a[2] > b[2] end)
  elseif sort ~= 'oldest' then
    table.sort(keep, function(a, b)
      if a[3] ~= b[3] then return a[3] > b[3] end
      if a[2] ~= b[2] then return a[2] < b[2] end
      return a[1] < b[1]
    end)
  end
  total_match = #keep
  for i = offset + 1, math.min(offset + limit, #keep) do rows[#rows + 1] = keep[i] end
end

local out = {}
for _, e in ipairs(rows) do
  local id = e[1]
  local key = bb .. 'item:' .. id
  local h = redis.call('HMGET', key, 'f:title', 'f:source', 'f:package', 'f:priority',
                       'f:revision_request')
  if h[1] or h[3] then
    local pkg = decode(h[3])
    local dur, marks = '', ''
    if type(pkg) == 'table' then
      dur = text(pkg['duration_s'])
      if pkg['kind'] == 'video' then marks = 'V' else marks = 'S' end
    end
    if h[5] then marks = marks .. 'R' end
    local score = qa_score(key)
    local p = tonumber(decode(h[4]))
    if p then any_priority = 1 end
    out[#out + 1] = {id, tostring(e[2]), text(decode(h[1])), dur, score and tostring(score) or '',
                     tostring(spent(id)), p and tostring(p) or '', marks, text(decode(h[2]))}
  end
end
return {now, total, total_match, offset, any_priority, out}
