-- Grants or declines an open budget request, with its audit record, in one step.
-- A grant raises that limit for that window only (the request's grant field). A decline holds
-- for the rest of that window: nr:cost:req:declined:<agent>|<limit>|<window> names it until
-- the window ends (a task's window: 7 days), and cost_budget.lua opens no new request for that
-- limit and window meanwhile.
-- KEYS[1]  the request hash (nr:cost:req:<id>)
-- KEYS[2]  the index of open requests (nr:cost:req:open)
-- KEYS[3]  the audit stream (audit.h)
-- ARGV[1]  grant | decline    ARGV[2]  amount in micro-dollars ("" : the amount needed)
-- ARGV[3]  now (ms)           ARGV[4]  the audit stream's approximate cap
-- ARGV[5..] the audit record's field/value pairs (audit_record_fill)
-- Returns {status, amount granted}; an error reply when the request is unknown or not open.
local r = redis.call('HMGET', KEYS[1], 'status', 'agent', 'limit', 'window', 'key', 'field',
  'needed')
if not r[1] then return redis.error_reply('NOREQUEST no such budget request') end
if r[1] ~= 'open' then return redis.error_reply('DECIDED the request is already ' .. r[1]) end
local kind = redis.call('TYPE', KEYS[3]).ok
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the audit stream ' .. KEYS[3] .. ' holds a ' .. kind)
end
local amount = 0
if ARGV[1] == 'grant' then
  amount = ARGV[2] ~= '' and tonumber(ARGV[2]) or tonumber(r[7])
  redis.call('HINCRBY', r[5], 'grant:' .. r[6], amount)
  redis.call('HSET', KEYS[1], 'status', 'granted', 'granted', amount)
else
  redis.call('HSET', KEYS[1], 'status', 'declined')
  -- When the window ends (UTC): a day "YYYYMMDD", an hour "YYYYMMDDHH", else 7 days on.
  local function days(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  end
  local w, ends = r[4], nil
  if string.match(w, '^%d%d%d%d%d%d%d%d$') then
    ends = (days(tonumber(w:sub(1, 4)), tonumber(w:sub(5, 6)), tonumber(w:sub(7, 8))) + 1) * 86400000
  elseif string.match(w, '^%d%d%d%d%d%d%d%d%d%d$') then
    ends = days(tonumber(w:sub(1, 4)), tonumber(w:sub(5, 6)), tonumber(w:sub(7, 8))) * 86400000 +
      (tonumber(w:sub(9, 10)) + 1) * 3600000
  else
    ends = tonumber(ARGV[3]) + 7 * 86400000
  end
  if ends > tonumber(ARGV[3]) then
    local dkey = string.gsub(KEYS[1], 'req:[^:]*$', 'req:declined:') .. r[2] .. '|' .. r[3] ..
      '|' .. r[4]
    redis.call('SET', dkey, string.match(KEYS[1], '[^:]*$'), 'PX', ends - tonumber(ARGV[3]))
  end
end
redis.call('HSET', KEYS[1], 'decided_ms', ARGV[3])
redis.call('HDEL', KEYS[2], r[2] .. '|' .. r[3] .. '|' .. r[4])
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
return {r[1] == 'open' and (ARGV[1] == 'grant' and 'granted' or 'declined'), tostring(amount)}
