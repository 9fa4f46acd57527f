-- What changed since a reader's sequence number. ARGV: C, the reader's epoch, its sequence
-- number, the most changes to return. Returns {'same', epoch, seq, dim} when nothing changed;
-- {'reload', epoch, seq, dim} when the reader must load the collection afresh (another epoch,
-- or changes it missed were trimmed from the log); else {'changes', epoch, reached, dim, seq,
-- then four per changed id: id, packed vector ('' when deleted), metadata JSON, insertion
-- order}, each id once with its state now; reached is the sequence number the reader is then at
-- (below seq when there is more).
local epoch, dim, seq = meta()
if not epoch then return gone() end
local last = tonumber(ARGV[3])
if epoch ~= tonumber(ARGV[2]) or last > seq then return {'reload', epoch, seq, dim} end
if last == seq then return {'same', epoch, seq, dim} end
local entries = redis.call('XRANGE', C .. ':log', '(' .. last .. '-0', '+', 'COUNT',
                           tonumber(ARGV[4]))
if #entries == 0 or entries[1][1] ~= (last + 1) .. '-0' then
  return {'reload', epoch, seq, dim}
end
local out = {'changes', epoch, last, dim, seq}
local seen = {}
for _, e in ipairs(entries) do
  local id = e[2][4]
  out[3] = tonumber(string.match(e[1], '^(%d+)'))
  if not seen[id] then
    seen[id] = true
    local blob = redis.call('HGET', C .. ':v', id)
    out[#out + 1] = id
    out[#out + 1] = blob or ''
    out[#out + 1] = blob and (redis.call('HGET', C .. ':m', id) or '{}') or ''
    out[#out + 1] = blob and redis.call('ZSCORE', C .. ':o', id) or '0'
  end
end
return out
