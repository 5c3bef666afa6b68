-- wrk script: PUT /payouts/start, each request starting another payout (ids 1, 2, 3, ... across threads).
-- Pass the number of wrk threads after `--` so that threads interleave ids without collisions, and
-- optionally the first id to use.
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk_sandbox_benchmark"

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  step = tonumber(args[1]) or 1
  local first = tonumber(args[2]) or 1
  n = first + tid - step
end

function request()
  n = n + step
  return wrk.format(nil, nil, nil, '{"payouts":[{"id":' .. n .. '}]}')
end
