-- GETs the request paths listed in BENCH_PATHS_FILE (one per line), round-robin, each
-- thread starting at its own place in the list; as a signed-in member when BENCH_COOKIE
-- is set. The runner passes the typeahead or the full-search list that
-- backend/examples/search_bench writes.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
  if line ~= "" then paths[#paths + 1] = line end
end
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then wrk.headers["Cookie"] = cookie end
wrk.headers["Accept"] = "application/json"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local n = 0
function init(args)
  n = (id or 0) * 97
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

-- The shared `done` that prints the JSON line the runner reads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
