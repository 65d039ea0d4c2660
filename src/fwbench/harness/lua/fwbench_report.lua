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
    '"mean":%.3f,"stdev":%.3f}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    status_json(merged),
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    latency.mean, latency.stdev))
end

return M
