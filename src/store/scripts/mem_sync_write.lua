-- A reader's writes and its catching up in one round trip: the records it wrote since its last
-- read (kept back by vmem_upsert_later, already in its own index) are upserted first, then
-- what changed since its sequence number comes back, those writes included.
-- ARGV: C, the reader's epoch, its sequence number, the most changes to return, then five per
-- record as mem_write.lua takes them. See write_records() and changes() in mem_lib.lua.
local wrote = write_records(5, true)
if type(wrote) == 'table' then return wrote end -- an error reply
return changes(tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
