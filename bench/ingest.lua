-- Replays pre-signed Twilio webhooks: each line of the file is "<signature>\t<form body>".
-- Every connection's thread takes every n-th line, so no request is sent twice unless the
-- file runs out (the summary says how many times it wrapped).
local path = os.getenv("BENCH_PATH")
local file = os.getenv("BENCH_FILE")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests_file = {}
  for line in io.lines(file) do
    local tab = line:find("\t")
    table.insert(requests_file, {line:sub(1, tab - 1), line:sub(tab + 1)})
  end
  stride = tonumber(os.getenv("BENCH_THREADS"))
  -- A later slice of the same benchmark starts past the lines the earlier ones sent.
  index = id + 1 + tonumber(os.getenv("BENCH_OFFSET") or "0")
  wraps = 0
end

function request()
  local entry = requests_file[index]
  index = index + stride
  if index > #requests_file then
    index = id + 1
    wraps = wraps + 1
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = entry[1],
  }, entry[2])
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + thread:get("wraps")
  end
  io.write(string.format(
    "BENCH {\"requests\": %d, \"seconds\": %f, \"non2xx\": %d, \"socket_errors\": %d, " ..
    "\"p50_ms\": %f, \"p99_ms\": %f, \"wrapped\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, wrapped))
end
