-- Stores embeddings in the cache (src/memory/embed.c), all in one round trip.
-- ARGV: TTL in seconds, then pairs of key (nr:mem:emb:<sha256>) and packed float32 vector.
-- Returns how many were stored.
local ttl = tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV, 2 do
  redis.call('SET', ARGV[i], ARGV[i + 1], 'EX', ttl)
  n = n + 1
end
return n
