-- Closes open budget requests that no longer wait for anyone: the agent's own limit was lifted
-- (set to 0) or raised above what the request was refused under, or every agent refused under
-- it is gone (its registry record expired or its heartbeat lapsed). The swarm's global limit
-- lives in the configuration, not here: a request under it closes in cost_budget.lua when a
-- call passes under a lifted or raised limit. Closing is not an operator's decision: status
-- "closed" with closed_why, no audit record (src/cost/budget.c, budget_requests_sweep()).
-- ARGV[1] cost prefix (nr:cost:)   ARGV[2] agent record prefix (nr:agent:)
-- ARGV[3] the agents sorted set (nr:agents)   ARGV[4] now (ms)
-- Returns {{id, why}, ...} for every request closed.
local P, A, now = ARGV[1], ARGV[2], tonumber(ARGV[4])
local fields = {agent_daily = 'daily', agent_hourly = 'hourly', agent_task = 'task'}
local out = {}

local function n(v) return tonumber(v or 0) or 0 end

local function gone(agent)
  if redis.call('EXISTS', A .. agent) == 0 then return true end
  local expires = redis.call('ZSCORE', ARGV[3], agent)
  return not expires or tonumber(expires) < now
end

local open = redis.call('HGETALL', P .. 'req:open')
for i = 1, #open, 2 do
  local okey, rid = open[i], open[i + 1]
  local key = P .. 'req:' .. rid
  local r = redis.call('HMGET', key, 'agent', 'limit', 'key', 'field', 'limit_value', 'status')
  local why = nil
  if r[6] ~= 'open' then
    why = 'not open'
  elseif r[1] ~= '*' and fields[r[2]] then
    local limit = n(redis.call('HGET', P .. 'limit:' .. r[1], fields[r[2]]))
    if limit <= 0 then
      why = 'the limit was lifted'
    elseif limit + n(redis.call('HGET', r[3], 'grant:' .. r[4])) > n(r[5]) then
      why = 'the limit was raised'
    end
  end
  if not why then
    local agents = redis.call('SMEMBERS', key .. ':agents')
    if #agents == 0 and r[1] ~= '*' then agents = {r[1]} end
    local all = #agents > 0
    for _, a in ipairs(agents) do
      if not gone(a) then all = false; break end
    end
    if all then why = 'its agent is gone' end
  end
  if why then
    redis.call('HDEL', P .. 'req:open', okey)
    if why ~= 'not open' then
      redis.call('HSET', key, 'status', 'closed', 'closed_why', why, 'decided_ms', now)
      out[#out + 1] = {rid, why}
    end
  end
end
return out
