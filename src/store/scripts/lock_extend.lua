-- Extend a lock only if the caller still holds it.
-- KEYS[1]  the lock key
-- ARGV[1]  the token the caller got when it acquired the lock
-- ARGV[2]  the new time to live, in milliseconds
-- Returns 1 when the lock was extended, 0 when it is held by another token or expired.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
