-- The floor: plain GETs of /healthz, summarised like ingest.lua.
function done(summary, latency, requests)
  io.write(string.format(
    "BENCH {\"requests\": %d, \"seconds\": %f, \"non2xx\": %d, \"socket_errors\": %d, " ..
    "\"p50_ms\": %f, \"p99_ms\": %f, \"wrapped\": 0}\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
