-- Budget reservations, commits and releases, with the usage record of a commit: every limit
-- that applies is checked and the reservation recorded in one step, so that no two callers
-- can both take the last of a budget (src/cost/budget.c, usage.c).
-- Keys are built from the prefix (ARGV[2], "nr:cost:"), because the windows a reservation
-- must be taken out of are only known once it is read; this is for a standalone Redis.
-- KEYS[1]  the live reservations: sorted set of ids scored by their expiry (ms)
-- KEYS[2]  the agent's limits hash (daily, hourly, task in micro-dollars; alert in ppm)
-- KEYS[3]  the set of agents known to the budget
-- ARGV[1]  op: reserve | commit | release | prune (lapsed reservations out, before a reading)
-- ARGV[2]  key prefix      ARGV[3]  now (ms, the caller's UTC clock: tests move it)
-- ARGV[4]  day window "YYYYMMDD"   ARGV[5]  hour window "YYYYMMDDHH"
-- ARGV[6]  agent           ARGV[7]  task id or ""
-- ARGV[8]  amount: the estimate (reserve) or the actual cost (commit), micro-dollars
-- ARGV[9]  reservation TTL ms       ARGV[10] global daily limit (0: none)
-- ARGV[11] alerts on (1/0)          ARGV[12] default alert threshold (ppm)
-- ARGV[13] reservation id (commit, release; "" for a commit without a reservation)
-- ARGV[14..22] usage: task type, model, tier, prompt tokens, completion tokens, duration ms,
--          confidence, cached (1/0), usage stream cap
-- ARGV[23..25] usage: the call's unique id ("" for none), provider kind, fallback (1/0)
-- ARGV[26] how long (ms) a committed id is kept to refuse its repeat ([retention] usage_ids)
-- reserve returns {1, id} or {0, limit name, window, limit, used, request id};
-- commit returns {1, alert...} where each alert is "scope|limit|window|spent|limit", or
-- {0, "duplicate"} when that reservation was committed already; release returns 1 or 0;
-- prune returns how many lapsed reservations it took out of their windows.
local op, P, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local day, hour, agent, task = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local amount = tonumber(ARGV[8])
local DAY_TTL, HOUR_TTL, TASK_TTL = 40 * 86400, 3 * 86400, 7 * 86400

local function n(v) return tonumber(v or 0) or 0 end

-- Takes one reservation's amount out of the sums of the windows it was counted in.
local function unreserve(id)
  local r = redis.call('HMGET', P .. 'resv:' .. id, 'agent', 'task', 'day', 'hour', 'amount')
  redis.call('ZREM', KEYS[1], id)
  if not r[1] then return nil end
  local amt = n(r[5])
  redis.call('HINCRBY', P .. 'd:' .. r[3], 'res:' .. r[1], -amt)
  redis.call('HINCRBY', P .. 'd:' .. r[3], 'res:*', -amt)
  redis.call('HINCRBY', P .. 'h:' .. r[4], 'res:' .. r[1], -amt)
  if r[2] ~= '' then redis.call('HINCRBY', P .. 'task:' .. r[2], 'res:t', -amt) end
  redis.call('DEL', P .. 'resv:' .. id)
  return r
end

-- Reservations whose caller never came back lapse here, a bounded number per call.
local function prune()
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)
  for _, id in ipairs(ids) do unreserve(id) end
end

-- Every limit that applies to agent/task in these windows: {name, key, field, limit, window}.
local function limits(a, t, d, h)
  local lim = redis.call('HMGET', KEYS[2], 'daily', 'hourly', 'task')
  local out = {}
  local function add(name, key, field, limit, window)
    if limit > 0 then out[#out + 1] = {name, key, field, limit, window} end
  end
  add('agent_daily', P .. 'd:' .. d, a, n(lim[1]), d)
  add('agent_hourly', P .. 'h:' .. h, a, n(lim[2]), h)
  if t ~= '' then add('agent_task', P .. 'task:' .. t, 't', n(lim[3]), 'task:' .. t) end
  add('global_daily', P .. 'd:' .. d, '*', tonumber(ARGV[10]), d)
  return out
end

local function sum(key, field, what)
  return n(redis.call('HGET', key, what .. ':' .. field))
end

if op == 'prune' then
  local total = 0
  for _ = 1, 16 do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do unreserve(id) end
    total = total + #ids
  end
  return total
end

if op == 'release' then
  prune()
  return unreserve(ARGV[13]) and 1 or 0
end

if op == 'reserve' then
  prune()
  for _, l in ipairs(limits(agent, task, day, hour)) do
    local name, key, field, limit, window = l[1], l[2], l[3], l[4], l[5]
    local cap = limit + sum(key, field, 'grant')
    local used = sum(key, field, 'spent') + sum(key, field, 'res')
    if used + amount > cap then
      -- One open request per agent, limit and window; later refusals add their task to it.
      local who = (name == 'global_daily') and '*' or agent
      local okey = who .. '|' .. name .. '|' .. window
      local need = used + amount - cap
      local rid = redis.call('HGET', P .. 'req:open', okey)
      -- A declined request holds for the rest of its window: no new one opens meanwhile.
      local declined = redis.call('GET', P .. 'req:declined:' .. okey)
      if declined and not rid then
        return {0, name, window, tostring(cap), tostring(used), declined}
      end
      if not rid then
        rid = tostring(redis.call('INCR', P .. 'req:seq'))
        redis.call('HSET', P .. 'req:' .. rid, 'id', rid, 'agent', who, 'limit', name,
          'window', window, 'key', key, 'field', field, 'limit_value', cap, 'needed', need,
          'status', 'open', 'time_ms', now)
        redis.call('HSET', P .. 'req:open', okey, rid)
        redis.call('ZADD', P .. 'requests', now, rid)
      elseif need > n(redis.call('HGET', P .. 'req:' .. rid, 'needed')) then
        redis.call('HSET', P .. 'req:' .. rid, 'needed', need)
      end
      redis.call('SADD', P .. 'req:' .. rid .. ':tasks', task ~= '' and task or agent)
      redis.call('SADD', P .. 'req:' .. rid .. ':agents', agent)
      return {0, name, window, tostring(cap), tostring(used), rid}
    end
  end
  -- The swarm's limit let this call through: an open request under it closes by itself when
  -- that limit was lifted or raised since (the agents' own limits: cost_sweep.lua).
  local gkey = '*|global_daily|' .. day
  local grid = redis.call('HGET', P .. 'req:open', gkey)
  if grid then
    local glimit = tonumber(ARGV[10])
    local gcap = glimit + sum(P .. 'd:' .. day, '*', 'grant')
    local was = n(redis.call('HGET', P .. 'req:' .. grid, 'limit_value'))
    if glimit <= 0 or gcap > was then
      redis.call('HSET', P .. 'req:' .. grid, 'status', 'closed', 'decided_ms', now,
        'closed_why', glimit <= 0 and 'the limit was lifted' or 'the limit was raised')
      redis.call('HDEL', P .. 'req:open', gkey)
    end
  end
  local id = tostring(redis.call('INCR', P .. 'resv:seq'))
  redis.call('HSET', P .. 'resv:' .. id, 'agent', agent, 'task', task, 'day', day,
    'hour', hour, 'amount', amount)
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[9]), id)
  redis.call('HINCRBY', P .. 'd:' .. day, 'res:' .. agent, amount)
  redis.call('HINCRBY', P .. 'd:' .. day, 'res:*', amount)
  redis.call('HINCRBY', P .. 'h:' .. hour, 'res:' .. agent, amount)
  redis.call('EXPIRE', P .. 'd:' .. day, DAY_TTL)
  redis.call('EXPIRE', P .. 'h:' .. hour, HOUR_TTL)
  if task ~= '' then
    redis.call('HINCRBY', P .. 'task:' .. task, 'res:t', amount)
    redis.call('EXPIRE', P .. 'task:' .. task, TASK_TTL)
  end
  redis.call('SADD', KEYS[3], agent)
  return {1, id}
end

-- commit: the actual cost replaces the reservation, in the windows it was counted in. A
-- commit is applied once: by the call's unique id when it has one (a replay from the journal
-- after a lost link may repeat it), else by its reservation's id.
local id, uid = ARGV[13], ARGV[23]
local mark = nil
if uid ~= '' then mark = P .. 'done:u:' .. uid elseif id ~= '' then mark = P .. 'done:' .. id end
if mark and redis.call('EXISTS', mark) == 1 then return {0, 'duplicate'} end
if id ~= '' then
  local r = unreserve(id)
  if r then agent, task, day, hour = r[1], r[2], r[3], r[4] end
end
if mark then redis.call('SET', mark, now, 'PX', tonumber(ARGV[26]) or 86400000) end
prune()
redis.call('HINCRBY', P .. 'd:' .. day, 'spent:' .. agent, amount)
redis.call('HINCRBY', P .. 'd:' .. day, 'spent:*', amount)
redis.call('HINCRBY', P .. 'h:' .. hour, 'spent:' .. agent, amount)
redis.call('EXPIRE', P .. 'd:' .. day, DAY_TTL)
redis.call('EXPIRE', P .. 'h:' .. hour, HOUR_TTL)
if task ~= '' then
  redis.call('HINCRBY', P .. 'task:' .. task, 'spent:t', amount)
  redis.call('EXPIRE', P .. 'task:' .. task, TASK_TTL)
end
redis.call('SADD', KEYS[3], agent)

-- Alerts: the first commit that takes a window past its threshold raises it, once.
local out = {1}
if ARGV[11] == '1' then
  local own = tonumber(redis.call('HGET', KEYS[2], 'alert') or '')
  if own and own <= 0 then own = nil end -- 0: the default threshold
  for _, l in ipairs(limits(agent, task, day, hour)) do
    local name, key, field, limit, window = l[1], l[2], l[3], l[4], l[5]
    local ppm = (name ~= 'global_daily' and own) or tonumber(ARGV[12])
    local cap = limit + sum(key, field, 'grant')
    local spent = sum(key, field, 'spent')
    if spent * 1000000 >= cap * ppm and
        redis.call('HSETNX', key, 'alerted:' .. field .. ':' .. name, now) == 1 then
      local scope = (name == 'global_daily') and '*' or agent
      redis.call('XADD', P .. 'events', 'MAXLEN', '~', 10000, '*', 'k', 'alert', 'agent', scope,
        'limit', name, 'window', window, 'spent', spent, 'cap', cap, 'ppm', ppm, 't', now)
      out[#out + 1] = scope .. '|' .. name .. '|' .. window .. '|' .. spent .. '|' .. cap
    end
  end
end

-- The usage record and its sums, per UTC hour and day: all, agent, tier, model, task type.
local ttype, model, tier = ARGV[14], ARGV[15], ARGV[16]
local pt, ct, cached = n(ARGV[17]), n(ARGV[18]), ARGV[21] == '1' and 1 or 0
redis.call('XADD', P .. 'usage', 'MAXLEN', '~', ARGV[22], '*', 'agent', agent, 'task', task,
  'type', ttype, 'model', model, 'tier', tier, 'prompt', pt, 'completion', ct,
  'ms', ARGV[19], 'conf', ARGV[20], 'cached', cached, 'cost', amount, 't', now,
  'provider', ARGV[24], 'fallback', ARGV[25] == '1' and 1 or 0, 'uid', uid)
local dims = {{'all', ''}, {'agent', agent}, {'tier', tier}, {'model', model},
  {'type', ttype}}
for _, w in ipairs({{P .. 'u:d:' .. ARGV[4], DAY_TTL}, {P .. 'u:h:' .. ARGV[5], HOUR_TTL * 3}}) do
  for _, d in ipairs(dims) do
    local s = ':' .. d[1] .. ':' .. d[2]
    redis.call('HINCRBY', w[1], 'calls' .. s, 1)
    redis.call('HINCRBY', w[1], 'cost' .. s, amount)
    redis.call('HINCRBY', w[1], 'prompt' .. s, pt)
    redis.call('HINCRBY', w[1], 'completion' .. s, ct)
    redis.call('HINCRBY', w[1], 'cached' .. s, cached)
  end
  redis.call('EXPIRE', w[1], w[2])
end
return out
