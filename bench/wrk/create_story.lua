-- POSTs a new ~800-word story per request (story create: validation, revision, tags, outbox).
-- Environment: BENCH_LEGACY, BENCH_COOKIE, BENCH_ORIGIN.
local legacy = os.getenv("BENCH_LEGACY")
local words = {}
for i = 1, 800 do words[i] = (i % 17 == 0) and "orchard.\n\n" or "word" .. (i % 50) end
local body = table.concat(words, " ")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
local n = 0
request = function()
  n = n + 1
  local payload = string.format(
    '{"legacy_id":"%s","title":"Bench story %d","body":"%s","tags":["bench"],"visibility":"members","status":"published"}',
    legacy, n, body:gsub("\n", "\\n"))
  return wrk.format(nil, "/api/v1/stories", nil, payload)
end


-- The shared `done` that prints the JSON line the runner reads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
