-- The control room's shared Lua: prepended to every room_*.lua script (room_items.lua,
-- room_review.lua). Reads only.

-- The server's clock in ms.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- JSON text decoded, or nil when it is missing or not JSON.
local function decode(v)
  if not v then return nil end
  local ok, d = pcall(cjson.decode, v)
  if ok then return d end
  return nil
end

-- A body field holds JSON: the decoded value, or nil.
local function field(key, name) return decode(redis.call('HGET', key, 'f:' .. name)) end

-- A string or a number as text; anything else as ''.
local function text(v)
  if type(v) == 'string' then return v end
  if type(v) == 'number' then return tostring(v) end
  return ''
end
