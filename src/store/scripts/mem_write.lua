-- Adds or upserts records. ARGV: C, 'add' | 'upsert', then five per record: id, packed
-- float32 vector, '1' when a document is given, the document, metadata JSON ('' for none).
-- See write_records in mem_lib.lua. Returns the new sequence number.
return write_records(3, ARGV[2] == 'upsert')
