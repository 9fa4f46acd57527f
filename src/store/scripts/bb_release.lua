-- Release an item's lock held with a token, and its place among its owner's claims.
-- ARGV: prefix, id, holder ("token:fence").
-- Returns 1 when it was ours and is released, else 0.
local id = ARGV[2]
if redis.call('GET', P .. 'lock:' .. id) ~= ARGV[3] then return 0 end
unhold(P .. 'item:' .. id, id)
return 1
