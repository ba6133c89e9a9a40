-- push.lua -- wrk script: DirectAdmin rawsave pushes, each a distinct realistic zone.
--
-- Owns the request stream of the push benchmark; bench/run.sh starts wrk, stops it once every
-- thread has sent its quota (wrk itself only stops on -d), and turns done()'s lines into the
-- summary. Arguments (after wrk's "--"): TOTAL THREADS AUTH SERIAL PREFIX MARKDIR
--   AUTH is base64("user:password") for the Basic Authorization header.
--   TOTAL pushes overall, split evenly over THREADS; zones are b<thread>-<n>.<PREFIX>.test.
--   MARKDIR: each thread creates MARKDIR/done.<thread> when its quota is answered.
-- Requests a connection sends after the quota is used up are GET /CMD_API_LOGIN_TEST; they are
-- counted as "extra" (at most one per connection) and are part of wrk's latency histogram.

local ffi = require("ffi")
ffi.cdef([[
typedef long time_t;
struct timespec { time_t tv_sec; long tv_nsec; };
int clock_gettime(int clk_id, struct timespec *tp);
]])
local ts = ffi.new("struct timespec")

local function now()
    ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME, comparable across threads and with bash
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local next_id = 0

function setup(thread)
    next_id = next_id + 1
    thread:set("tid", next_id)
    table.insert(threads, thread)
end

-- per-thread state (every thread has its own Lua state)
local total, nthreads, quota, serial, prefix, markdir
local sent, answered, accepted, failed, extra = 0, 0, 0, 0, 0
local first_t, last_t = 0, 0
local push_headers, extra_req
local finished = false

function init(args)
    total = tonumber(args[1])
    nthreads = tonumber(args[2])
    local auth = "Basic " .. args[3]
    serial = args[4]
    prefix = args[5] or "bench"
    markdir = args[6]
    local base = math.floor(total / nthreads)
    quota = base + ((tid <= total % nthreads) and 1 or 0)
    push_headers = {
        ["Authorization"] = auth,
        ["Content-Type"] = "application/x-www-form-urlencoded",
    }
    extra_req = wrk.format("GET", "/CMD_API_LOGIN_TEST", { ["Authorization"] = auth }, nil)
end

-- A DirectAdmin-style zone (~25 records, $TTL, multi-line SOA, relative and absolute names,
-- split DKIM TXT, SRV, CAA), different for every n.
local function zone(domain, n)
    local hi = math.floor(n / 250) % 250 + 2
    local a = string.format("192.0.%d.%d", hi, n % 250 + 1)
    local b = string.format("198.51.%d.%d", hi, n % 250 + 1)
    local v6 = string.format("2001:db8:%x::%x", math.floor(n / 65536) + 1, n % 65536 + 1)
    local t = {
        "$TTL 3600\n",
        "@\tIN\tSOA\tns1.bench-hosting.example.\thostmaster.", domain, ". (\n",
        "\t\t\t\t\t\t", serial, "\n\t\t\t\t\t\t3600\n\t\t\t\t\t\t3600\n",
        "\t\t\t\t\t\t1209600\n\t\t\t\t\t\t86400 )\n\n",
        domain, ".\t3600\tIN\tNS\tns1.bench-hosting.example.\n",
        domain, ".\t3600\tIN\tNS\tns2.bench-hosting.example.\n\n",
        domain, ".\t3600\tIN\tA\t", a, "\n",
        "ftp\t3600\tIN\tA\t", a, "\n",
        "mail\t3600\tIN\tA\t", a, "\n",
        "pop\t3600\tIN\tA\t", a, "\n",
        "smtp\t3600\tIN\tA\t", a, "\n",
        "www\t3600\tIN\tA\t", a, "\n",
        "sip\t3600\tIN\tA\t", b, "\n",
        "autoconfig\t3600\tIN\tA\t", a, "\n",
        "autodiscover\t3600\tIN\tA\t", a, "\n",
        domain, ".\t3600\tIN\tAAAA\t", v6, "\n",
        "www\t3600\tIN\tAAAA\t", v6, "\n\n",
        "shop\t3600\tIN\tCNAME\t", domain, ".\n",
        "webmail\t3600\tIN\tCNAME\tmail\n\n",
        domain, ".\t3600\tIN\tMX\t10 mail\n",
        domain, ".\t3600\tIN\tMX\t20 mx2.backupmx.example.\n\n",
        domain, ".\t3600\tIN\tTXT\t\"v=spf1 a mx ip4:", a, " ip6:", v6, " ~all\"\n",
        "_dmarc\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine; rua=mailto:dmarc@", domain, "\"\n",
        "x._domainkey\t3600\tIN\tTXT\t( \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A",
        "9PygUvipDiDNXX8oOR4Br1u7HnAlsLxBOqzHwfhzUs1KzOzOnq/2BcknALXu5miQ0OcrECyHEd5wyvbpFriU",
        "YcfgmOuJvlIvhjsFxoHr/YAxyB1EQ/VZVwu/0kiOghUw6NLvydP3+oUOjXmHIfPmW1k27JlRFEJMB/JeGcnR\" ",
        "\"Is/bgK4Tt84ESJ22jZFSAV6VPnQEMPjHNJ1Z/d39QWQiISJ1kXPHtXY2bjsqJmSZ2BWaCtKg0wmaObAAuwHK",
        "dOFp4GXHVKkR2wbP5wkMdCUtkILjnzU5mZet89f5XiszVR58TLdNVtEZtRKiOugyZExts3rCDajKr4nO", n,
        "\" )\n\n",
        "_sip._tcp\t3600\tIN\tSRV\t10 60 5060 sip.", domain, ".\n",
        "_autodiscover._tcp\t3600\tIN\tSRV\t0 0 443 mail.", domain, ".\n",
        domain, ".\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"\n",
        domain, ".\t3600\tIN\tCAA\t0 iodef \"mailto:hostmaster@", domain, "\"\n",
    }
    return table.concat(t)
end

local verified = false

function request()
    -- wrk calls request() once on the first thread's state to verify the script, before any
    -- connection exists; that request is never sent, so it must not use up a zone.
    if tid == 1 and not verified then
        verified = true
        return extra_req
    end
    if sent >= quota then
        return extra_req
    end
    if sent == 0 then
        first_t = now()
    end
    sent = sent + 1
    local domain = string.format("b%d-%d.%s.test", tid, sent, prefix)
    local path = "/CMD_API_DNS_ADMIN?action=rawsave&domain=" .. domain .. "&hostname=bench&username=u"
    return wrk.format("POST", path, push_headers, zone(domain, sent))
end

function response(status, headers, body)
    if body ~= nil and body:find("Login", 1, true) then
        extra = extra + 1
        return
    end
    answered = answered + 1
    if status >= 200 and status < 300 and body == "error=0" then
        accepted = accepted + 1
    else
        failed = failed + 1
        if failed <= 3 then
            io.stderr:write(string.format("push.lua: HTTP %d %s\n", status, tostring(body)))
        end
    end
    if answered >= quota and not finished then
        finished = true
        last_t = now()
        wrk.thread:set("accepted", accepted)
        wrk.thread:set("failed", failed)
        wrk.thread:set("extra", extra)
        wrk.thread:set("first_t", first_t)
        wrk.thread:set("last_t", last_t)
        wrk.thread:stop()
        if markdir ~= nil and markdir ~= "" then
            local f = io.open(markdir .. "/done." .. tid, "w")
            if f ~= nil then
                f:close()
            end
        end
    end
end

function done(summary, latency, requests)
    local acc, fail, ext, t0, t1 = 0, 0, 0, nil, nil
    for _, thread in ipairs(threads) do
        acc = acc + (thread:get("accepted") or 0)
        fail = fail + (thread:get("failed") or 0)
        ext = ext + (thread:get("extra") or 0)
        local a, b = thread:get("first_t"), thread:get("last_t")
        if a ~= nil and a > 0 and (t0 == nil or a < t0) then
            t0 = a
        end
        if b ~= nil and b > 0 and (t1 == nil or b > t1) then
            t1 = b
        end
    end
    local secs = (t0 ~= nil and t1 ~= nil and t1 > t0) and (t1 - t0) or (summary.duration / 1e6)
    io.write(string.format("bench: accepted=%d failed=%d extra=%d errors=%d\n", acc, fail, ext,
        summary.errors.connect + summary.errors.read + summary.errors.write +
        summary.errors.status + summary.errors.timeout))
    io.write(string.format("bench: first=%.6f last=%.6f seconds=%.6f pushes_per_s=%.1f\n",
        t0 or 0, t1 or 0, secs, acc / secs))
    io.write(string.format("bench: latency_ms p50=%.2f p90=%.2f p99=%.2f p99.9=%.2f max=%.2f\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
