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

-- Whether the votes cast already settle debate key, whatever the empty seats would vote (each
-- at full confidence, for or against): the quorum is met and the confidence-weighted share of
-- "for" among the for and against votes stays on one side of the threshold. The moderator
-- closes such a debate at once and no more debaters are seated (the calls they would make
-- could not change the outcome). A debate opened with settle_early off waits for its panel. Abstentions count toward the quorum only, as in
-- debate_consensus().
local function decided(key)
  local f = redis.call('HMGET', key, 'panel', 'quorum', 'threshold', 'early')
  local panel, quorum, thr = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  if quorum > panel then quorum = panel end
  local votes = redis.call('HVALS', key .. ':votes')
  local n = #votes
  if n >= panel then return true end
  if f[4] == '0' then return false end -- opened to hear the whole panel
  if n < quorum then return false end
  local w_for, w_against = 0, 0
  for _, v in ipairs(votes) do
    local o = cjson.decode(v)
    local c = math.max(0, math.min(1, tonumber(o.confidence) or 0))
    if o.vote == 'for' then
      w_for = w_for + c
    elseif o.vote == 'against' then
      w_against = w_against + c
    end
  end
  local r = panel - n
  local lo = w_for / (w_for + w_against + r)
  local hi = (w_for + r) / (w_for + w_against + r)
  return lo + 1e-9 >= thr or hi + 1e-9 < thr
end
