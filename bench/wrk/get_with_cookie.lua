-- GETs the path given on the command line, as a signed-in member when BENCH_COOKIE is set.
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then wrk.headers["Cookie"] = cookie end
wrk.headers["Accept"] = "text/html"


-- The shared `done` that prints the JSON line the runner reads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
