-- The local vector memory's shared Lua (src/memory/vmem_local.c): prepended to every mem_*.lua
-- script. ARGV[1] of each is the collection's key, nr:mem:c:<name>: a hash with the
-- collection's epoch (a new number each time the collection is made), dimension (0 until the
-- first vector) and change sequence number; beside it C:v (id -> packed float32 vector), C:m
-- (id -> metadata JSON), C:d (id -> document), C:o (ids scored by the sequence number of their
-- first write: insertion order, and stable paging) and C:log (a stream of changes whose entry
-- ids are <seq>-0, fields op u|d and id, capped near LOG_MAX).
local C = ARGV[1]
local LOG_MAX = 10000

-- The collection's epoch, dimension and sequence number, or nil when it does not exist.
local function meta()
  local f = redis.call('HMGET', C, 'epoch', 'dim', 'seq')
  if not f[1] then return nil end
  return tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
end

-- The error every script answers for a collection that is not there (dropped since the
-- caller opened it): the caller opens it again and retries.
local function gone()
  return redis.error_reply('GONE the collection does not exist (dropped)')
end

local function log(seq, op, id)
  redis.call('XADD', C .. ':log', 'MAXLEN', '~', LOG_MAX, seq .. '-0', 'op', op, 'id', id)
end
