-- wrk script: POSTs a random line of $BENCH_BODIES (one JSON request body per line) with
-- $BENCH_TOKEN as bearer token; counts non-200 answers and GraphQL errors; prints one RESULT line.
-- With no $BENCH_BODIES it GETs the URL as is (the bare handler).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
  bodies = {}
  local file = os.getenv("BENCH_BODIES")
  if file and file ~= "" then
    for line in io.lines(file) do bodies[#bodies + 1] = line end
  end
  token = os.getenv("BENCH_TOKEN") or ""
  math.randomseed(os.time() * 100 + id)
end

function request()
  if #bodies == 0 then
    return wrk.format("GET", wrk.path)
  end
  local headers = { ["Content-Type"] = "application/json" }
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", wrk.path, headers, bodies[math.random(#bodies)])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  local s = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e, s.connect + s.read + s.write + s.timeout))
end
