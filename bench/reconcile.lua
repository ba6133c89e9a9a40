-- reconcile.lua -- a stand-in writer for `make bench-reconcile` (bench/reconcile.sh): answers the
-- inventory requests of one backend from the store itself, run every 0.2 s with EVAL.
--
-- KEYS[1] the stream (P changes), KEYS[2] the live set (P zones), KEYS[3] this responder's
-- cursor (the last stream id it looked at). ARGV[1] the prefix ("dadns:"), ARGV[2] the backend
-- name, ARGV[3] unix seconds now.
-- For every op=inventory entry for ARGV[2] after the cursor it publishes P inventory:<be>:<req>
-- (zone -> "<serial> <digest> <version> 1") and then its :meta hash, like common/inventory.c,
-- with deliberate drift: backend "be1" lacks the zones whose number ends in 000 and serves serial
-- 1 for those ending in 001 (2 x 100 republished per pass over 100,000 zones); backend "be2"
-- also holds 50 managed zones the store has no state for (deleted there) and 20 it does not
-- manage (reported). Keys other than KEYS are built from the prefix: fine for the single Redis
-- of a benchmark, not cluster-safe. Returns the number of inventories published.

local prefix, be, now = ARGV[1], ARGV[2], ARGV[3]
local last = redis.call('GET', KEYS[3]) or '0-0'
local entries = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1000)
local published = 0

local function publish(req)
    local key = prefix .. 'inventory:' .. be .. ':' .. req
    local names = redis.call('SMEMBERS', KEYS[2])
    local batch, n = {}, 0
    redis.call('DEL', key, key .. ':meta')
    local function add(zone, value)
        batch[#batch + 1] = zone
        batch[#batch + 1] = value
        n = n + 1
        if #batch >= 2000 then
            redis.call('HSET', key, unpack(batch))
            batch = {}
        end
    end
    for _, z in ipairs(names) do
        local f = redis.call('HMGET', prefix .. 'zone:' .. z, 'serial', 'digest', 'version')
        local num = tonumber(string.match(z, '^z(%d+)%.') or '-1')
        local serial = f[1] or '-'
        if be == 'be1' and num % 1000 == 1 then
            serial = '1'
        end
        if not (be == 'be1' and num % 1000 == 0) then
            add(z, serial .. ' ' .. (f[2] or '-') .. ' ' .. (f[3] or '0') .. ' 1')
        end
    end
    if be == 'be2' then
        for i = 1, 50 do
            add('stray' .. i .. '.bench', '1 - 0 1')
        end
        for i = 1, 20 do
            add('foreign' .. i .. '.bench', '1 - 0 0')
        end
    end
    if #batch > 0 then
        redis.call('HSET', key, unpack(batch))
    end
    redis.call('HSET', key .. ':meta', 'status', 'ok', 'zones', n, 'error', '', 'finished_at', now,
               'consumer', 'bench-standin')
    redis.call('EXPIRE', key, 3600)
    redis.call('EXPIRE', key .. ':meta', 3600)
    published = published + 1
end

for _, e in ipairs(entries) do
    local f, m = e[2], {}
    for i = 1, #f, 2 do
        m[f[i]] = f[i + 1]
    end
    if m['op'] == 'inventory' and m['backend'] == be and m['request'] then
        publish(m['request'])
    end
    last = e[1]
end
redis.call('SET', KEYS[3], last)
return published
