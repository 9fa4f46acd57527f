-- Take the first due unlocked item of a status (highest priority, then oldest), lock it for the
-- claiming agent and move it on, atomically, unless the queue the claim feeds is full.
-- ARGV: prefix, from status, to status, actor, lock token, lock TTL in ms, how many of the
--       first to look at for one that is not locked, '1' to return the item too, the step the
--       claim does, where the item goes back when the claim is taken back ('st:S', 'stage:N'),
--       then the gate (the key of the fed queue's depth, its field ('' for a sorted set's size),
--       its high-water mark; '' '' 0 for none), how long a story may wait before production
--       (ms, 0: no limit), the audit stream and its cap.
-- Returns {1, id, fencing number, version[, the item's HGETALL]}, {0} when there is nothing
-- to take, or {2, depth} when the gate is full (nothing taken). Entries not due yet (a retry's
-- backoff) wait; those that became due are put in their place first. A story found waiting
-- longer than the limit before production is archived as stale on the way (audited).
local from, to, by, token, ttl, scan = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local stale, audit, cap = ARGV[14], ARGV[15], ARGV[16]
if not BB_ALLOWED[from] or not BB_ALLOWED[from][to] then
  return redis.error_reply('claim cannot move items from ' .. from .. ' to ' .. to)
end
local full = gate_full(ARGV[11], ARGV[12], ARGV[13])
if full then return {2, full} end
local key, id, fence, v = claim_first(from, to, by, token, ttl, tonumber(scan), ARGV[9], ARGV[10],
                                      now_ms(), stale, audit, cap)
if not key then return {0} end
if ARGV[8] == '1' then return {1, id, fence, v, redis.call('HGETALL', key)} end
return {1, id, fence, v}
