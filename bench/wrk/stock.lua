-- POST {"delta": 1} to one product's stock endpoint with a token; count the 200s it gets back.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.body = '{"delta": 1, "reason": "bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")

ok = 0

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  end
end
