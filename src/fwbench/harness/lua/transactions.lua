-- The `transactions` scenario: a payments client's day, against the contract's domain
-- endpoints. Arguments (after wrk's `--`): API token, then a run nonce that keeps
-- idempotency keys and account ids unique to this wrk invocation, so every repeat
-- starts from the same state whatever earlier runs left in the database.
--
-- Mix, per request (weights out of 100):
--   25 create    POST /transactions with an Idempotency-Key; 1 create in 10 replays the
--                thread's previous create (same key, same body), which must answer 201
--                with the original transaction and write no second row
--   30 read      GET /transactions/{id} of a transaction this thread created; 1 read in
--                20 asks for an id that does not exist (a stale link), which answers 404
--   20 list      GET /transactions?account_id=...&limit=20 (keyset pagination)
--   10 summary   GET /accounts/{account_id}/summary (aggregates computed in SQL)
--   15 fraud     POST /transactions/{id}/fraud-check (calls the downstream's /score)
-- Until a thread has seen its first 201, reads and fraud-checks are creates instead.
-- The scenario's expected statuses (fwbench.harness.load.SCENARIOS) list that 404.
local report = require("fwbench_report")

setup = report.setup
done = report.done

local ACCOUNTS = 50
local KNOWN_IDS = 1000
-- Transaction ids are integers >= 1; no run creates a billion transactions.
local MISSING_ID = 999999999
local CURRENCIES = { "EUR", "USD", "GBP" }
local MERCHANTS = { "coffee-corner", "book-nook", "rail-ticket", "grocer", "cloud-hosting" }

local auth, nonce
local created = 0
local known = {}
local known_count = 0
local seen = 0
local last_create

function init(args)
  auth = "Bearer " .. args[1]
  nonce = args[2]
  -- thread_number is set by setup() before init() runs in the thread's state.
  math.randomseed(tonumber(thread_number) * 7919 + os.time())
end

local function account()
  return string.format("acct-%s-%d-%d", nonce, thread_number, math.random(ACCOUNTS))
end

local function create()
  if last_create ~= nil and math.random(10) == 1 then
    return last_create
  end
  created = created + 1
  local body = string.format(
    '{"account_id":"%s","amount":"%d.%02d","currency":"%s","merchant":"%s"}',
    account(), math.random(1, 2000), math.random(0, 99),
    CURRENCIES[math.random(#CURRENCIES)], MERCHANTS[math.random(#MERCHANTS)])
  local headers = {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", nonce, thread_number, created),
  }
  last_create = wrk.format("POST", "/transactions", headers, body)
  return last_create
end

local function known_id()
  return known[math.random(known_count)]
end

function request()
  local roll = math.random(100)
  if roll <= 25 or known_count == 0 and (roll <= 55 or roll > 85) then
    return create()
  elseif roll <= 55 then
    local id = math.random(20) == 1 and MISSING_ID or known_id()
    return wrk.format("GET", "/transactions/" .. id, { ["Authorization"] = auth })
  elseif roll <= 75 then
    local path = "/transactions?limit=20&account_id=" .. account()
    return wrk.format("GET", path, { ["Authorization"] = auth })
  elseif roll <= 85 then
    return wrk.format("GET", "/accounts/" .. account() .. "/summary", { ["Authorization"] = auth })
  end
  return wrk.format("POST", "/transactions/" .. known_id() .. "/fraud-check", { ["Authorization"] = auth })
end

function response(status, headers, body)
  report.count(status)
  if status == 201 then
    local id = body:match('"id"%s*:%s*(%d+)')
    if id ~= nil then
      -- A ring of the most recent ids: reads target fresh transactions, as clients do.
      seen = seen + 1
      known[(seen - 1) % KNOWN_IDS + 1] = id
      known_count = math.min(seen, KNOWN_IDS)
    end
  end
end
