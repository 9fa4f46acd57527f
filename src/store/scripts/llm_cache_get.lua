-- One response cache lookup and its count, in one round trip (src/llm/cache.c).
-- KEYS[1]  the answer's key, nr:llm:cache:<sha256 hex>
-- KEYS[2]  the counters hash, nr:llm:cache:stats
-- Counts a hit when the key holds a string, a miss when there is none. Returns the value
-- (the answer as JSON) or nil. A value the caller cannot read is its to recount as a miss.
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('HINCRBY', KEYS[2], 'hits', 1)
  return v
end
redis.call('HINCRBY', KEYS[2], 'misses', 1)
return false
