-- The reaper: liveness, not leases, decides when work is stalled. Every claim belongs to an
-- agent (P .. 'held:' .. agent, see hold() in bb_lib.lua) and every debate seat to a debater
-- (<debate prefix>seated:<agent>); when the agent is dead, all of them are taken back at once:
-- each claimed item goes to the front of the queue its claim came from without counting an
-- attempt (setback 'reclaim'), each seat without a vote is freed and its debate's deadline
-- given back the time the seat was held. An agent is dead when its heartbeat has lapsed
-- (its score in the registry's set has passed; only when the caller says its own view of the
-- registry is sound, e.g. not just after an outage every agent lived through) or when the
-- caller found its process gone (same host, pid no longer running: the ids given). Dead agents
-- are marked with 'reaped' in their record (and, found by pid, their heartbeat ended now).
-- The same pass puts back at the front the stories parked for a budget request that is no
-- longer open (granted or declined), and lists the live agents of the caller's host so that
-- it can look at their processes.
-- ARGV: prefix (nr:bb:), registry set key, agent record prefix, debate prefix, cost prefix,
--       actor, '1' to reap lapsed heartbeats, max attempts of a step, reclaims allowed, backoff
--       base ms, cap ms, random share (millionths), the caller's host key, the caller's pid,
--       how far back (ms) to look for lapsed heartbeats, then the ids of agents whose process
--       is gone.
-- Returns {{ids taken back}, {{agent, pid, process start}, ...} live on the host, {ids
-- unparked}, {agents reaped}}.
local REG, AP, DP, CP, by = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local pol = {max = tonumber(ARGV[8]), reclaims = tonumber(ARGV[9]), base = tonumber(ARGV[10]),
             cap = tonumber(ARGV[11]), rnd = tonumber(ARGV[12]) / 1e6, wait = -1, req = ''}
local host, mypid, window = ARGV[13], ARGV[14], tonumber(ARGV[15])
local t = now_ms()
local dead = {}
for i = 16, #ARGV do dead[#dead + 1] = {ARGV[i], 'its process is gone'} end
if ARGV[7] == '1' then
  for _, a in ipairs(redis.call('ZRANGEBYSCORE', REG, t - window, t)) do
    dead[#dead + 1] = {a, 'its heartbeat lapsed'}
  end
end
local taken, reaped = {}, {}
-- Lock-only claims of statuses that cannot fail (review, rejection) are only let go.
local gentle = {max = pol.max, reclaims = 0, base = 0, cap = 0, rnd = 0, wait = -1, req = ''}
for _, d in ipairs(dead) do
  local a, why = d[1], d[2]
  local held, seated = P .. 'held:' .. a, DP .. 'seated:' .. a
  if redis.call('EXISTS', held) == 1 or redis.call('EXISTS', seated) == 1 or
     (redis.call('EXISTS', AP .. a) == 1 and redis.call('HEXISTS', AP .. a, 'reaped') == 0) then
    for _, id in ipairs(redis.call('SMEMBERS', held)) do
      local key = P .. 'item:' .. id
      local f = redis.call('HMGET', key, 'owner', 'status', 'section', 'stage')
      -- Only what it still holds: a claim it let go, or that lapsed and went to another, stays.
      local waiting = f[4] and f[4] ~= '' and redis.call('ZSCORE', P .. 'stage:' .. f[4], id)
      if f[1] == a and f[2] and BB_ALLOWED[f[2]] and not waiting then
        setback(key, id, f[2], f[3], 'reclaim', by,
                'taken back: its claimer ' .. a .. ' died (' .. why .. ')', t,
                BB_ALLOWED[f[2]]['FAILED'] and pol or gentle)
        taken[#taken + 1] = id
      end
    end
    redis.call('DEL', held)
    for _, id in ipairs(redis.call('SMEMBERS', seated)) do
      local dkey = DP .. id
      if redis.call('HEXISTS', dkey .. ':votes', a) == 0 then
        local at = redis.call('HGET', dkey .. ':seats', a)
        if at then
          redis.call('HDEL', dkey .. ':seats', a)
          if redis.call('HGET', dkey, 'state') == 'open' then
            -- The time the dead debater held the seat is given back to the debate.
            redis.call('HINCRBY', dkey, 'deadline', math.max(0, t - tonumber(at)))
            wake('debate')
          end
        end
      end
    end
    redis.call('DEL', seated)
    if redis.call('EXISTS', AP .. a) == 1 then
      redis.call('HSET', AP .. a, 'reaped', t)
      local exp = tonumber(redis.call('ZSCORE', REG, a) or '0')
      if exp > t then redis.call('ZADD', REG, t - 1, a) end
    end
    reaped[#reaped + 1] = a
  end
end
-- Stories parked for a budget request go on once it is decided.
local unparked = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'budget_wait')) do
  local key = P .. 'item:' .. id
  local f = redis.call('HMGET', key, 'wait_req', 'status', 'stage')
  if not f[1] then
    redis.call('SREM', P .. 'budget_wait', id)
  elseif redis.call('HGET', CP .. 'req:' .. f[1], 'status') ~= 'open' then
    local idx, st = nil, nil
    if f[3] and f[3] ~= '' and redis.call('ZSCORE', P .. 'stage:' .. f[3], id) then
      idx = P .. 'stage:' .. f[3]
    elseif f[2] and redis.call('ZSCORE', P .. 'st:' .. f[2], id) then
      idx, st = P .. 'st:' .. f[2], f[2]
    end
    if idx then
      redis.call('ZADD', idx, front(idx, key, st, t), id)
      wake(idx == P .. 'st:' .. f[2] and f[2] or 'stage:' .. f[3])
    end
    redis.call('HDEL', key, 'wait_req')
    redis.call('HSET', key, 'due', 0)
    redis.call('SREM', P .. 'budget_wait', id)
    unparked[#unparked + 1] = id
  end
end
-- The live agents of the caller's host, for it to look at their processes.
local local_agents = {}
for _, a in ipairs(redis.call('ZRANGEBYSCORE', REG, '(' .. t, '+inf')) do
  local h = redis.call('HMGET', AP .. a, 'hostkey', 'pid', 'pstart')
  if h[1] == host and h[2] and h[2] ~= mypid then
    local_agents[#local_agents + 1] = {a, h[2], h[3] or ''}
  end
end
return {taken, local_agents, unparked, reaped}
