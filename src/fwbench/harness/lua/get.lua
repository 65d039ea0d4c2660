-- GET the URL wrk was given (path and query included), counting statuses.
-- Used by every TechEmpower-type scenario and by `io`; fwbench.harness.load builds the URL.
local report = require("fwbench_report")

setup = report.setup
response = report.response
done = report.done
