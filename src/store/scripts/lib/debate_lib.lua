-- The debates' shared Lua: prepended to every debate_*.lua script. ARGV[1] of every debate
-- script is the key prefix ("nr:"). Times come from the server's clock (TIME), so every
-- machine of a swarm agrees on seats, deadlines and leases.
local P = ARGV[1]
local D = P .. 'debate:'
local OPEN = P .. 'debates:open'
local CLOSED = P .. 'debates:closed'

-- The blackboard's doorbell (see bb_lib.lua): 'debate' when one opens, 'debate_full' when its
-- panel has voted.
local function wake(what)
  redis.call('PUBLISH', P .. 'bb:wake', what)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A debate as the C side reads it: {fields, votes, seats taken}.
local function full(id)
  local key = D .. id
  return {redis.call('HGETALL', key), redis.call('HGETALL', key .. ':votes'),
          redis.call('HLEN', key .. ':seats')}
end
