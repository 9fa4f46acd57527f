-- room_items.lua - what the control room lists of the blackboard, in one round trip and
-- without the stories' bodies: the newest items of each section, and the stories waiting for
-- review: when the longest waiting one entered; and the stories agents hold now. Reads only
-- (src/room/room_feed.c; the review queue itself is paged by room_review.lua).
-- ARGV: blackboard prefix (nr:bb:), cost prefix (nr:cost:), the most items per section, the
--       REVIEWING status name, how many working statuses follow, the working statuses, then
--       section names.
-- Returns {now_ms, oldest review entered ms ('0': none), held, section1, section2, ...}:
--   held: {{agent, story id}, ...}: every story in a working status whose lock is held now, by
--     the item's owner
--   each section: its newest items first, each {id, status, section, owner, updated, created,
--     attempts, title}
local bb, cost, limit, reviewing = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local nworking = tonumber(ARGV[5])
local working = {}
for i = 1, nworking do working[i] = ARGV[5 + i] end
local now = now_ms()

-- The longest waiting story in review: when it entered.
local oldest = redis.call('ZRANGE', bb .. 'st:' .. reviewing, 0, 0, 'WITHSCORES')
oldest = oldest[2] or '0'

-- The stories agents hold now: an item whose lock is held, by its owner. Working statuses
-- only, a bounded number each.
local held = {}
for _, st in ipairs(working) do
  for _, id in ipairs(redis.call('ZRANGE', bb .. 'st:' .. st, 0, 499)) do
    if redis.call('EXISTS', bb .. 'lock:' .. id) == 1 then
      local owner = redis.call('HGET', bb .. 'item:' .. id, 'owner')
      if owner and owner ~= '' then held[#held + 1] = {owner, id} end
    end
  end
end

local out = {now, oldest, held}
for a = 6 + nworking, #ARGV do
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
