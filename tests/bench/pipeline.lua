-- wrk script of the http benchmark (tests/bench/bench_http.sh):
--
--   WRK_DEPTH=16 WRK_CONNECTIONS=64 wrk -c 64 -s pipeline.lua URL
--
-- 1. Pipelining: each write carries WRK_DEPTH (default 16) GET requests for
--    URL's path. wrk parses the request string once at start-up, counts the
--    requests in it, and then counts every response as one request: its
--    requests/s are responses/s. It records one latency sample per batch,
--    from the write to the batch's last response. WRK_DEPTH=1 is plain
--    keep-alive (or `Connection: close` with -H).
--
--    The batch is handed to wrk through wrk.format, which wrk.init calls
--    right after init() to build its static request: defining a global
--    request() instead (as wrk's own pipeline.lua does) would make wrk call
--    Lua before every write, and wrk, not the server, is the ceiling here.
--
-- 2. Latency without wrk's correction: before printing, wrk 4.1 adds
--    phantom samples for coordinated omission, assuming one request per
--    connection every runtime / (requests / connections). Under pipelining
--    that interval is DEPTH times too short: the phantoms swamp the real
--    samples and land below the recorded minimum, where wrk's percentile
--    loop does not look, so its p99 comes out as 0. done() undoes the
--    correction (exactly: it knows the interval wrk used) and prints the
--    percentiles of the samples really measured, as `lat_p50_us` and
--    `lat_p99_us`. It needs the connection count, from WRK_CONNECTIONS.

local depth = tonumber(os.getenv("WRK_DEPTH") or "") or 16

init = function(args)
    local batch = string.rep(wrk.format("GET", wrk.path), depth)
    wrk.format = function()
        return batch
    end
end

-- The histogram: wrk's stats object is a bucket per microsecond. Through
-- LuaJIT's FFI the buckets are read directly (wrk 4.1's struct stats,
-- checked against what the Lua API says), down to 0, so that the phantoms
-- below the minimum can be checked too. The Lua API (latency(i), the i-th
-- distinct value, walking from the minimum each time) is the fallback: as
-- exact above the minimum, but quadratic in the spread, seconds for a slow
-- server's tail. Returns a function bucket(v) and the lowest value it knows.
local function histogram(latency)
    local ok, ffi = pcall(require, "ffi")
    if ok then
        pcall(ffi.cdef, [[
            typedef struct {
                uint64_t count, limit, min, max;
                uint64_t data[];
            } aw_wrk_stats;
        ]])
        local s = ffi.cast("aw_wrk_stats **", latency)[0]
        if tonumber(s.min) == latency.min and tonumber(s.max) == latency.max and
            tonumber(s.limit) > latency.max then
            return function(v) return tonumber(s.data[v]) end, 0
        end
    end
    local counts = {}
    for i = 1, #latency do
        local v, c = latency(i)
        counts[v] = c
    end
    return function(v) return counts[v] or 0 end, latency.min
end

-- wrk's stats_correct(interval e): for each value v >= 2e, in ascending
-- order, data[v - k*e] += data[v] for every k >= 1 with v - k*e > e. So
-- corrected[m] = real[m] + sum over k >= 1 of real[m + k*e], for m > e:
-- going down from the maximum, real[m] = corrected[m] - S[m], where
-- S[m] = real[m + e] + S[m + e]. Returns real, a sparse table, where
-- nothing below wrk's minimum may be left (done() checks).
local function uncorrect(bucket, low, max, e)
    local real, tail = {}, {}
    for m = max, low, -1 do
        local s = 0
        if e > 0 and m > e then
            s = (real[m + e] or 0) + (tail[m + e] or 0)
            if s ~= 0 then
                tail[m] = s
            end
        end
        local r = bucket(m) - s
        if r ~= 0 then
            real[m] = r
        end
    end
    return real
end

local function percentile(real, min, max, total, p)
    local rank = math.floor(p / 100 * total + 0.5)
    if rank < 1 then
        rank = 1
    end
    local seen = 0
    for v = min, max do
        seen = seen + (real[v] or 0)
        if seen >= rank then
            return v
        end
    end
    return max
end

done = function(summary, latency, requests)
    local conns = tonumber(os.getenv("WRK_CONNECTIONS") or "")
    if not conns then
        io.write("# pipeline.lua: WRK_CONNECTIONS unset, no uncorrected latency\n")
        return
    end
    if #latency == 0 then
        return
    end
    local min, max = latency.min, latency.max
    local per_conn = math.floor(summary.requests / conns)
    local e = 0
    if per_conn > 0 then
        e = math.floor(summary.duration / per_conn)
    end
    local bucket, low = histogram(latency)
    local real = uncorrect(bucket, low, max, e)
    local total, bad = 0, 0
    for v, n in pairs(real) do
        if v < min or n < 0 then
            bad = bad + math.abs(n)
        else
            total = total + n
        end
    end
    if bad > 0 then
        io.write(string.format("# pipeline.lua: undoing wrk's correction left %d stray samples\n",
            bad))
    end
    io.write(string.format("lat_samples %d\n", total))
    io.write(string.format("lat_p50_us %d\n", percentile(real, min, max, total, 50)))
    io.write(string.format("lat_p99_us %d\n", percentile(real, min, max, total, 99)))
    io.write(string.format("lat_max_us %d\n", max))
end
