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

function M.done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'FWBENCH_WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":%s,' ..
    '"latency_us":{"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p99_9":%d,"max":%d,' ..
    '"mean":%.3f,"stdev":%.3f,"uncorrected_mean":%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    status_json(merged),
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    latency.mean, latency.stdev, uncorrected_mean(summary, latency)))
end

return M
