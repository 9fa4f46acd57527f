-- An operator's requeue: a FAILED story (or an ARCHIVED one, when named by its id) goes back
-- to a step's place (BB_STEPS: its status, and stage), at the front and due now, with a fresh
-- attempt budget for that step and its clock before production started again ('since'); every
-- checkpoint stays (the caller may retire those of the step and later ones by the patch), the
-- error history gains a line saying so, and the audit record is appended in the same step.
-- ARGV: prefix, id, actor, step, '1' when an ARCHIVED story may be requeued, the audit
--       stream's key ('' for none), its cap, how many audit strings follow, the audit record's
--       field/value pairs, then body field / JSON value pairs merged in the same step.
-- Returns {1, version, from, to, section} or the refusal of refuse().
local id, by, step, archived = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = P .. 'item:' .. id
local cur = redis.call('HMGET', key, 'status', 'section')
local from, sec = cur[1], cur[2]
if not from then return {0, 'no item ' .. id, '', '', ''} end
if from ~= 'FAILED' and not (from == 'ARCHIVED' and archived == '1') then
  return refuse(key, id .. ' is ' .. from .. '; only a FAILED story' ..
                (archived == '1' and ' or an ARCHIVED one' or '') .. ' can be requeued')
end
local place_of = BB_STEPS[step]
if not place_of then return refuse(key, 'no step ' .. step) end
if redis.call('EXISTS', P .. 'lock:' .. id) == 1 then
  return refuse(key, 'locked by another holder')
end
if ARGV[6] ~= '' then
  local kind = redis.call('TYPE', ARGV[6])['ok']
  if kind ~= 'stream' and kind ~= 'none' then
    return refuse(key, 'the audit stream ' .. ARGV[6] .. ' is a ' .. kind .. ', not a stream')
  end
end
local t = now_ms()
local to, stage = place_of[1], place_of[2]
local why = 'requeued at ' .. step .. ' by ' .. by
local v, tosec = move(key, id, from, sec, to, by, why, t, 'requeue')
local naudit = tonumber(ARGV[8])
if ARGV[6] ~= '' then
  redis.call('XADD', ARGV[6], 'MAXLEN', '~', ARGV[7], '*', unpack(ARGV, 9, 8 + naudit))
end
apply_pairs(key, 9 + naudit)
local ok, h = pcall(cjson.decode, redis.call('HGET', key, 'f:errors') or '[]')
if not ok or type(h) ~= 'table' then h = {} end
h[#h + 1] = {step = step, agent = by, error = why, t = t, requeue = true}
redis.call('HSET', key, 'f:errors', cjson.encode(h))
redis.call('HDEL', key, 'att:' .. step, 'park:' .. step, 'wait_req', 'failed_step')
redis.call('HSET', key, 'step', step, 'back', '', 'owner', '', 'due', 0, 'archive_reason', '',
           'since', t)
redis.call('HINCRBY', key, 'requeues', 1)
redis.call('SREM', P .. 'budget_wait', id)
if stage ~= '' then
  redis.call('HSET', key, 'stage', stage)
  redis.call('ZADD', P .. 'stage:' .. stage, front(P .. 'stage:' .. stage, key, nil, t), id)
  wake('stage:' .. stage)
else
  redis.call('HSET', key, 'stage', '')
  redis.call('ZADD', P .. 'st:' .. to, front(P .. 'st:' .. to, key, to, t), id)
end
return {1, v, from, to, tosec}
