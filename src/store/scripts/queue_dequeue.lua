-- queue_dequeue.lua - hands the next task of a queue to a consumer, in one step: first (when
-- asked) moves delayed tasks that are due back into their streams and claims a task idle past
-- the visibility timeout, then reads a new task, breaking before normal.
-- KEYS[1] breaking stream, KEYS[2] normal stream, KEYS[3] delayed set, KEYS[4] dead stream
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] flags: "p" promote due delayed tasks, "c" claim
--   idle tasks, "b" read the breaking stream only
-- ARGV[4] visibility timeout ms, ARGV[5] maximum deliveries, ARGV[6] and ARGV[7] the claim
--   cursors (XAUTOCLAIM) of the breaking and normal streams, ARGV[8] the prefix of done
--   markers (the task id follows), ARGV[9] the cap of the dead stream
-- Returns {task, next_due, cursor_breaking, cursor_normal, claim_more}:
--   task: false, or {stream (1 breaking, 2 normal), entry id, deliveries, {field, value, ...}}
--   next_due: ms until the earliest delayed task is due, -1 when none or not looked at
--   claim_more: 1 when claiming found a task or has not finished its pass over the pending
-- A claimed task already done is acknowledged and dropped; one whose next delivery would pass
-- the maximum goes to the dead stream with its last error.
local group, consumer, flags = ARGV[1], ARGV[2], ARGV[3]
local vt, maxd = tonumber(ARGV[4]), tonumber(ARGV[5])
local cursors = {ARGV[6], ARGV[7]}
local only_breaking = string.find(flags, 'b', 1, true) ~= nil
local last = only_breaking and 1 or 2
local next_due, claim_more = -1, 0
local task = false

if string.find(flags, 'p', 1, true) then
    local now = now_ms()
    local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
    for _, m in ipairs(due) do
        local f = cjson.decode(m)
        local s, rec = 2, {}
        for i = 1, #f, 2 do
            if f[i] == 'pri' then
                if f[i + 1] == 'b' then
                    s = 1
                end
            else
                rec[#rec + 1] = f[i]
                rec[#rec + 1] = f[i + 1]
            end
        end
        redis.call('XADD', KEYS[s], '*', unpack(rec))
        redis.call('ZREM', KEYS[3], m)
    end
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if first[2] then
        next_due = math.max(0, tonumber(first[2]) - now)
    end
end

if string.find(flags, 'c', 1, true) then
    for s = 1, last do
        for _ = 1, 4 do
            local r = redis.call('XAUTOCLAIM', KEYS[s], group, consumer, vt, cursors[s], 'COUNT', 1)
            local e = r[2][1]
            cursors[s] = r[1]
            if e then
                local id, f = e[1], e[2]
                local p = redis.call('XPENDING', KEYS[s], group, id, id, 1)
                local d = (tonumber(field(f, 'att')) or 0) + (p[1] and tonumber(p[1][4]) or 1)
                claim_more = 1
                if redis.call('EXISTS', ARGV[8] .. (field(f, 'id') or '')) == 1 then
                    redis.call('XACK', KEYS[s], group, id)
                    redis.call('XDEL', KEYS[s], id)
                elseif d > maxd then
                    local err = 'no ack within the visibility timeout (' .. vt .. ' ms) after ' ..
                                    (d - 1) .. ' deliveries'
                    local prev = field(f, 'err')
                    if prev then
                        err = err .. '; last error: ' .. prev
                    end
                    bury(KEYS[4], ARGV[9], f, id, s == 1 and 'b' or 'n', d - 1, err)
                    redis.call('XACK', KEYS[s], group, id)
                    redis.call('XDEL', KEYS[s], id)
                else
                    task = {s, id, d, f}
                    break
                end
            end
            if cursors[s] == '0-0' then
                break
            end
        end
        if cursors[s] ~= '0-0' then
            claim_more = 1
        end
        if task then
            break
        end
    end
end

if not task then
    for s = 1, last do
        local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS',
                             KEYS[s], '>')
        if r and r[1][2][1] then
            local e = r[1][2][1]
            task = {s, e[1], (tonumber(field(e[2], 'att')) or 0) + 1, e[2]}
            break
        end
    end
end

return {task, next_due, cursors[1], cursors[2], claim_more}
