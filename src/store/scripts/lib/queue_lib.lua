-- The work queues' shared Lua: prepended to every queue_*.lua script by the build.

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The value of field name in a flat field/value list, or nil.
local function field(f, name)
    for i = 1, #f, 2 do
        if f[i] == name then
            return f[i + 1]
        end
    end
    return nil
end

-- A task's own fields from stream entry id (fields f), without the queue's bookkeeping
-- (att, err), and with the time it was first enqueued (enq) carried over.
local function task_fields(f, id)
    local rec = {}
    for i = 1, #f, 2 do
        if f[i] ~= 'att' and f[i] ~= 'err' and f[i] ~= 'enq' then
            rec[#rec + 1] = f[i]
            rec[#rec + 1] = f[i + 1]
        end
    end
    rec[#rec + 1] = 'enq'
    rec[#rec + 1] = field(f, 'enq') or string.match(id, '^(%d+)')
    return rec
end

-- Adds entry id (fields f) to the dead-letter stream dead (capped at about cap) with its
-- priority ('b' or 'n'), the deliveries it had and why it died.
local function bury(dead, cap, f, id, pri, deliveries, err)
    local rec = task_fields(f, id)
    for _, v in ipairs({'pri', pri, 'deliveries', tostring(deliveries), 'err', err, 'at',
                        tostring(now_ms())}) do
        rec[#rec + 1] = v
    end
    redis.call('XADD', dead, 'MAXLEN', '~', cap, '*', unpack(rec))
end
