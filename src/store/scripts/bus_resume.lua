-- Lifts the swarm's halt flag, tells the swarm on the control channel and audits it, in one
-- step. When the swarm is not halted nothing is changed, sent or audited.
-- KEYS[1]  the halt flag key (control.h)
-- KEYS[2]  the audit stream (audit.h)
-- ARGV[1]  the control channel
-- ARGV[2]  the CONTROL resume message, encoded (message.h)
-- ARGV[3]  the time_ms of the halt the operator saw, or "" for whatever halt is in force: when
--          the halt in force is another (lifted and set again since), nothing is changed
-- ARGV[4]  the audit stream's approximate length cap
-- ARGV[5..] the audit record's field/value pairs (audit_record_fill)
-- Returns {the halt record that was lifted, or "" when there was none, receivers, 0}, or
-- {the halt record in force, 0, 1} when it is not the one the operator saw.
-- Redis does not undo a script's writes when a later command in it fails, so whatever could
-- fail is checked before the first write: the audit key must be a stream or absent.
local kind = redis.call('TYPE', KEYS[2]).ok
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the audit stream ' .. KEYS[2] .. ' holds a ' .. kind)
end
local was = redis.call('GET', KEYS[1])
if not was then
  return {'', 0, 0}
end
if ARGV[3] ~= '' then
  local ok, rec = pcall(cjson.decode, was)
  if not ok or type(rec) ~= 'table' or tostring(rec.time_ms) ~= ARGV[3] then
    return {was, 0, 1}
  end
end
redis.call('DEL', KEYS[1])
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2])
local fields = {}
for i = 5, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
return {was, receivers, 0}
