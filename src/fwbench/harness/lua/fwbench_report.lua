-- The reporter every fwbench wrk script uses: counts responses by HTTP status and, when
-- wrk is done, prints one JSON line (prefixed FWBENCH_WRK_RESULT) that
-- fwbench.harness.load parses. Times are in microseconds, as wrk measures them.
--
-- wrk runs one Lua state per thread plus one for setup() and done(): response() counts
-- in its thread's state (the global `statuses`), and done() gathers those counts from
-- every thread with thread:get(), the pattern of wrk's own examples/scripts/setup.lua.
-- Defining response() makes wrk parse every response; it costs the generator a few
-- percent, which `fwbench calibrate` measures because it uses this reporter too.
local M = {}

-- LuaJIT's FFI reads wrk's latency histogram in one pass (see histogram_json).
local ffi = require("ffi")
ffi.cdef[[
typedef struct {
  uint64_t count;
  uint64_t limit;
  uint64_t min;
  uint64_t max;
  uint64_t data[?];
} fwbench_wrk_stats;
]]

local threads = {}

-- Per-thread-state counts, read by done() through thread:get("statuses").
statuses = {}

function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function M.count(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function M.response(status, headers, body)
  M.count(status)
end

local function status_json(merged)
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  table.sort(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end

-- wrk 4 has corrected `latency` for coordinated omission before done() sees it
-- (stats_correct in wrk's src/stats.c, called from src/wrk.c with interval =
-- duration / (requests / connections), integer microseconds): each response of n >= 2 x
-- interval adds samples n - interval, n - 2 x interval, ... while above interval. The
-- correction is deterministic, so it is undone here to give the mean of the latencies
-- wrk measured, the one Little's law holds for. Only buckets >= 2 x interval add
-- samples, so only they are read, from the slowest down (their own counts include
-- samples added by slower ones); latency(i) scans wrk's histogram from its minimum, so
-- reading the whole of it would take minutes on a long tail. Measured responses number
-- `requests` unless some timed out (those have no latency): then the mean is unknown,
-- and so is it without the connection count, which wrk does not tell scripts and
-- fwbench.harness.load passes as FWBENCH_WRK_CONNECTIONS. Unknown prints null.
local function uncorrected_mean(summary, latency)
  local connections = tonumber(os.getenv("FWBENCH_WRK_CONNECTIONS") or "")
  local measured_count = summary.requests
  if connections == nil or summary.errors.timeout > 0 or measured_count == 0 then
    return "null"
  end
  local per_connection = math.floor(measured_count / connections)
  if per_connection == 0 then
    return string.format("%.3f", latency.mean) -- wrk corrected nothing
  end
  local interval = math.floor(summary.duration / per_connection)
  local original, highest = {}, nil
  local added_count, added_sum = 0, 0
  for i = #latency, 1, -1 do
    local value, count = latency(i)
    if value < 2 * interval then
      break
    end
    highest = highest or value
    local above = value + interval
    while above <= highest do
      count = count - (original[above] or 0)
      above = above + interval
    end
    original[value] = count
    -- value - k x interval for k = 1 .. copies, all above interval
    local copies = math.ceil((value - interval) / interval) - 1
    added_count = added_count + count * copies
    added_sum = added_sum + count * (copies * value - interval * copies * (copies + 1) / 2)
  end
  local corrected_sum = latency.mean * (measured_count + added_count)
  return string.format("%.3f", (corrected_sum - added_sum) / measured_count)
end

-- Every non-empty bucket of wrk's latency histogram (1 us wide, corrected as above) as a
-- JSON array of [microseconds, count] pairs, ascending, so that the histograms of several
-- wrk processes can be merged bucket by bucket (fwbench.harness.generators) instead of
-- averaging their percentiles. wrk's Lua API gives the i-th non-empty bucket with
-- latency(i), which scans the histogram from its minimum each time: reading all of them
-- costs the square of the range (minutes on a long tail). The stats userdata holds a
-- pointer to wrk's `stats` struct (src/stats.h of wrk 4: count, limit, min, max, then
-- data[limit]), which the FFI reads in one pass; the pass checks itself against wrk's own
-- min, max and non-empty bucket count, so a wrk with another layout prints null instead
-- of a wrong histogram. Printed only when FWBENCH_WRK_HISTOGRAM is set: the line grows
-- with the number of distinct latencies.
local function histogram_json(latency)
  if os.getenv("FWBENCH_WRK_HISTOGRAM") == nil then
    return nil
  end
  local stats = ffi.cast("fwbench_wrk_stats **", latency)[0]
  local low, high = tonumber(stats.min), tonumber(stats.max)
  if low ~= latency.min or high ~= latency.max or high >= tonumber(stats.limit) then
    return "null"
  end
  local parts = {}
  for value = low, high do
    local count = tonumber(stats.data[value])
    if count > 0 then
      parts[#parts + 1] = string.format("[%d,%d]", value, count)
    end
  end
  if #parts ~= #latency then
    return "null"
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

function M.done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local errors = summary.errors
  local histogram = histogram_json(latency)
  io.write(string.format(
    'FWBENCH_WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":%s,' ..
    '"latency_us":{"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p99_9":%d,"max":%d,' ..
    '"mean":%.3f,"stdev":%.3f,"uncorrected_mean":%s}%s}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    status_json(merged),
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    latency.mean, latency.stdev, uncorrected_mean(summary, latency),
    histogram and (',"histogram_us":' .. histogram) or ""))
end

return M
