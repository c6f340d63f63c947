-- wrk script for bench/load and bench/side-by-side: one scenario per run, chosen by SCENARIO.
--   list    GET   /api/v1/tasks?limit=50
--   create  POST  /api/v1/tasks                 {"title": "load <thread>-<n>"}
--   toggle  PATCH /api/v1/tasks/<id>/complete   (a random one of the user's tasks)
--   get     GET   /api/v1/tasks/<id>            (a random one of the user's tasks)
--   mix     per request: list 40 %, get one 40 %, create 10 %, toggle 10 %
--   health  GET   /health                       (no credential, as a probe sends it)
-- One user: TOKEN is the credential; FIRST_ID and ID_COUNT name the user's task ids
-- (consecutive). Many users: USERS names a file of lines "<token> <first id> <count>", and
-- every request comes from a random one of them.
-- At the end one line "RESULT requests seconds p50_us p99_us connect read write status timeout".

local scenario = os.getenv("SCENARIO") or "health"
local users = {
  { token = os.getenv("TOKEN") or "", first = tonumber(os.getenv("FIRST_ID") or "1"),
    count = tonumber(os.getenv("ID_COUNT") or "1") },
}
local users_file = os.getenv("USERS")

-- Each thread gets its own number, so created titles are unique and random ids differ.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local n = 0
function init(args)
  math.randomseed(1000 + (number or 0))
  if users_file then
    users = {}
    for line in io.lines(users_file) do
      local token, first, count = line:match("^(%S+) (%d+) (%d+)$")
      users[#users + 1] = { token = token, first = tonumber(first), count = tonumber(count) }
    end
  end
end

-- wrk.format does not merge wrk.headers into a table that is passed, so build it whole.
local function headers(token, with_body)
  local h = { ["Host"] = wrk.host, ["Authorization"] = "Bearer " .. token }
  if with_body then
    h["Content-Type"] = "application/json"
  end
  return h
end

local function random_id(user)
  return user.first + math.random(0, user.count - 1)
end

local function kind()
  if scenario ~= "mix" then
    return scenario
  end
  local r = math.random()
  if r < 0.4 then return "list" elseif r < 0.8 then return "get"
  elseif r < 0.9 then return "create" else return "toggle" end
end

function request()
  local user = users[math.random(#users)]
  local k = kind()
  if k == "list" then
    return wrk.format("GET", "/api/v1/tasks?limit=50", headers(user.token, false))
  elseif k == "create" then
    n = n + 1
    local body = string.format('{"title":"load %d-%d"}', number or 0, n)
    return wrk.format("POST", "/api/v1/tasks", headers(user.token, true), body)
  elseif k == "toggle" then
    return wrk.format("PATCH", "/api/v1/tasks/" .. random_id(user) .. "/complete", headers(user.token, false))
  elseif k == "get" then
    return wrk.format("GET", "/api/v1/tasks/" .. random_id(user), headers(user.token, false))
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
