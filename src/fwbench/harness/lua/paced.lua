-- Open-loop (constant-rate) load for `fwbench advise --verify`: requests leave on a fixed
-- schedule, whatever the responses do, GETting the URL wrk was given.
--
-- wrk is closed-loop: a connection sends its next request when the previous response
-- arrives, so a slow server slows the load down and hides its own queue (coordinated
-- omission). wrk calls delay() before every request of every connection, so here each
-- call takes the next time of the thread's schedule (start + k x interval, interval =
-- wrk threads / rate, passed as the script's one argument in milliseconds) and waits
-- until then. A request whose time has passed leaves at once and counts as late; as
-- long as a connection is free at each scheduled time (fwbench opens several times the
-- requests it expects in flight), requests leave on schedule and wrk's latency, timed
-- from the send, is the latency from the scheduled time. The late sends and the worst
-- lateness are printed after the report (FWBENCH_WRK_PACED) so that fwbench can say
-- when the schedule slipped, and by how much.
local report = require("fwbench_report")
local ffi = require("ffi")

ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } fwbench_timespec;
int clock_gettime(int clock_id, fwbench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
-- Lateness below this is the event loop's timer resolution (whole milliseconds), not a
-- busy generator.
local LATE_MS = 2
local clock = ffi.new("fwbench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local interval_ms
local start_ms
local scheduled = 0
-- Per-thread-state counts, read by done() through thread:get().
late_sends = 0
max_late_ms = 0

function init(args)
  interval_ms = tonumber(args[1])
end

function delay()
  local now = now_ms()
  start_ms = start_ms or now
  local due = start_ms + scheduled * interval_ms
  scheduled = scheduled + 1
  if due >= now then
    return due - now
  end
  local late = now - due
  if late > LATE_MS then
    late_sends = late_sends + 1
  end
  max_late_ms = math.max(max_late_ms, late)
  return 0
end

local threads = {}

function setup(thread)
  report.setup(thread)
  table.insert(threads, thread)
end

response = report.response

function done(summary, latency, requests)
  report.done(summary, latency, requests)
  local late, worst = 0, 0
  for _, thread in ipairs(threads) do
    late = late + thread:get("late_sends")
    worst = math.max(worst, thread:get("max_late_ms"))
  end
  io.write(string.format('FWBENCH_WRK_PACED {"late_sends":%d,"max_late_ms":%.3f}\n', late, worst))
end
