-- POST {"delta": 1} with a token to one product's stock endpoint (the command line's URL) or,
-- given a file of paths after "--", to a random one per request; count the 2xx it gets back.
-- A line of the file may name a location after its path ("/api/products/<id>/stock/ east"):
-- that request's body names it too (else the API's default, main).
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.body = '{"delta": 1, "reason": "bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")

local paths = {}
ok = 0

function init(args)
  if args[1] then
    for line in io.lines(args[1]) do
      local path, location = line:match("^(%S+)%s*(%S*)$")
      local body = nil
      if location ~= "" then
        body = '{"delta": 1, "reason": "bench", "location": "' .. location .. '"}'
      end
      table.insert(paths, {path, body})
    end
  end
  math.randomseed(os.time() + tonumber(tostring(paths):match("0x(%x+)") or "0", 16))
end

function request()
  if #paths > 0 then
    local entry = paths[math.random(#paths)]
    return wrk.format(nil, entry[1], nil, entry[2])
  end
  return wrk.format()
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  end
end
