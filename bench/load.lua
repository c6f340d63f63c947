-- wrk script for bench/load: one scenario per run, chosen by SCENARIO.
--   list    GET   /api/v1/tasks?limit=50
--   create  POST  /api/v1/tasks                 {"title": "load <thread>-<n>"}
--   toggle  PATCH /api/v1/tasks/<id>/complete   (a random one of the user's tasks)
--   get     GET   /api/v1/tasks/<id>            (a random one of the user's tasks)
--   health  GET   /health                       (no credential, as a probe sends it)
-- TOKEN is the credential; FIRST_ID and ID_COUNT name the user's task ids (consecutive).
-- At the end one line "RESULT requests seconds p50_us p99_us connect read write status timeout".

local scenario = os.getenv("SCENARIO") or "health"
local token = os.getenv("TOKEN") or ""
local first_id = tonumber(os.getenv("FIRST_ID") or "1")
local id_count = tonumber(os.getenv("ID_COUNT") or "1")

-- Each thread gets its own number, so created titles are unique and random ids differ.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local n = 0
function init(args)
  math.randomseed(1000 + (number or 0))
end

-- wrk.format does not merge wrk.headers into a table that is passed, so build it whole.
local function headers(with_body)
  local h = { ["Host"] = wrk.host, ["Authorization"] = "Bearer " .. token }
  if with_body then
    h["Content-Type"] = "application/json"
  end
  return h
end

local function random_id()
  return first_id + math.random(0, id_count - 1)
end

function request()
  if scenario == "list" then
    return wrk.format("GET", "/api/v1/tasks?limit=50", headers(false))
  elseif scenario == "create" then
    n = n + 1
    local body = string.format('{"title":"load %d-%d"}', number or 0, n)
    return wrk.format("POST", "/api/v1/tasks", headers(true), body)
  elseif scenario == "toggle" then
    return wrk.format("PATCH", "/api/v1/tasks/" .. random_id() .. "/complete", headers(false))
  elseif scenario == "get" then
    return wrk.format("GET", "/api/v1/tasks/" .. random_id(), headers(false))
  else
    return wrk.format("GET", "/health", { ["Host"] = wrk.host })
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
