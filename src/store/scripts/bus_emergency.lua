-- An emergency broadcast, with the swarm's halt flag when asked, and its audit record: all in
-- one step, so that an operator's emergency is never half done or done unaudited.
-- KEYS[1]  the halt flag key (control.h)
-- KEYS[2]  the audit stream (audit.h)
-- ARGV[1]  the emergency channel
-- ARGV[2]  the EMERGENCY message, encoded (message.h)
-- ARGV[3]  the halt record to store in KEYS[1], or "" to leave the flag alone; a halt already
--          in force is kept (the first operator's who, why and when stay on record: another
--          halt never overwrites it), the broadcast and its audit record still go out
-- ARGV[4]  the audit stream's approximate length cap
-- ARGV[5..] the audit record's field/value pairs (audit_record_fill)
-- Returns the number of subscribers that received the message.
-- Redis does not undo a script's writes when a later command in it fails, so whatever could
-- fail is checked before the first write: the audit key must be a stream or absent.
local kind = redis.call('TYPE', KEYS[2]).ok
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the audit stream ' .. KEYS[2] .. ' holds a ' .. kind)
end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], ARGV[3], 'NX')
end
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2])
local fields = {}
for i = 5, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
return receivers
