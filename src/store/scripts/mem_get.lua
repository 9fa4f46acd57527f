-- Records by id. ARGV: C, then the ids. Returns three arrays in the ids' order: packed
-- vectors, metadata JSON and documents (nil where there is none).
local epoch = meta()
if not epoch then return gone() end
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
return {redis.call('HMGET', C .. ':v', unpack(ids)), redis.call('HMGET', C .. ':m', unpack(ids)),
        redis.call('HMGET', C .. ':d', unpack(ids))}
