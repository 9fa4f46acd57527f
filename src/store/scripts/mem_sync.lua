-- What changed since a reader's sequence number. ARGV: C, the reader's epoch, its sequence
-- number, the most changes to return. See changes() in mem_lib.lua for the reply.
return changes(tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
