-- Deletes a collection and everything in it. ARGV: C. Returns 1 when there was one.
local epoch = meta()
redis.call('UNLINK', C, C .. ':v', C .. ':m', C .. ':d', C .. ':o', C .. ':log')
return epoch and 1 or 0
