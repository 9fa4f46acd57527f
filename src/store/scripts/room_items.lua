-- room_items.lua - what the control room lists of the blackboard, in one round trip and
-- without the stories' bodies: the newest items of each section, and the stories waiting for
-- review with what a reviewer weighs (package duration, last QA score, cost so far). Reads
-- only (src/room/room_feed.c).
-- ARGV: blackboard prefix (nr:bb:), cost prefix (nr:cost:), the most items per section, the
--       REVIEWING status name, then section names.
-- Returns {now_ms, reviews, section1, section2, ...}:
--   each section: its newest items first, each {id, status, section, owner, updated, created,
--     attempts, title}
--   reviews: the stories in REVIEWING, oldest first, each {id, entered ms, title, package
--     duration_s ('' when none), score of the last QA verdict ('' when none), spent:t of the
--     story's task budget (µ$; every LLM call made for the story is reserved under its id)}
local bb, cost, limit, reviewing = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- A body field holds JSON: the decoded value, or nil when it is missing or not JSON.
local function field(key, name)
  local v = redis.call('HGET', key, 'f:' .. name)
  if not v then return nil end
  local ok, d = pcall(cjson.decode, v)
  if ok then return d end
  return nil
end

local function text(v)
  if type(v) == 'string' then return v end
  if type(v) == 'number' then return tostring(v) end
  return ''
end

local reviews = {}
local ids = redis.call('ZRANGE', bb .. 'st:' .. reviewing, 0, limit - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local id = ids[i]
  local key = bb .. 'item:' .. id
  if redis.call('EXISTS', key) == 1 then
    local pkg, qa = field(key, 'package'), field(key, 'qa')
    local dur, score = '', ''
    if type(pkg) == 'table' then dur = text(pkg['duration_s']) end
    if type(qa) == 'table' and #qa > 0 and type(qa[#qa]) == 'table' then
      score = text(qa[#qa]['score'])
    end
    local spent = redis.call('HGET', cost .. 'task:' .. id, 'spent:t') or '0'
    reviews[#reviews + 1] = {id, ids[i + 1], text(field(key, 'title')), dur, score, spent}
  end
end

local out = {now, reviews}
for a = 5, #ARGV do
  local list = {}
  for _, id in ipairs(redis.call('ZREVRANGE', bb .. 'sec:' .. ARGV[a], 0, limit - 1)) do
    local key = bb .. 'item:' .. id
    local h = redis.call('HMGET', key, 'id', 'status', 'section', 'owner', 'updated', 'created',
                         'attempts')
    if h[1] then
      list[#list + 1] = {h[1], h[2] or '', h[3] or '', h[4] or '', h[5] or '0', h[6] or '0',
                         h[7] or '0', text(field(key, 'title'))}
    end
  end
  out[#out + 1] = list
end
return out
