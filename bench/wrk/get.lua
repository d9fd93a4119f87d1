-- GET the command line's URL or, given a file of paths after "--", a random one per request.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local paths = {}

function init(args)
  if args[1] then
    for line in io.lines(args[1]) do
      table.insert(paths, line)
    end
  end
  math.randomseed(os.time())
end

function request()
  if #paths > 0 then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return wrk.format("GET")
end
