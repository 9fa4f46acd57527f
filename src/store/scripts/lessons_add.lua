-- Counts lessons the vector memory stored (src/memory/memory.c, memory_remember): one more
-- for each agent role named, and the generation of the agent memories moved on, so that an
-- agent that knows the counts (the swarm's heart reads them with the flow) can skip a recall
-- when its role has none, and a sync when nothing changed since its last.
-- ARGV: the hash (nr:mem:lessons), the generation's field, then the roles.
-- Returns the new generation.
for i = 3, #ARGV do redis.call('HINCRBY', ARGV[1], ARGV[i], 1) end
return redis.call('HINCRBY', ARGV[1], ARGV[2], 1)
