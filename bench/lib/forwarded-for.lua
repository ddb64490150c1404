-- wrk: each request says it comes from one of 4,096 client addresses (X-Forwarded-For),
-- as a proxy in front would; an app that does not trust the header ignores it.
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = "10.0." .. (n % 16) .. "." .. (n % 256)
  return wrk.format()
end
