-- wrk request generator for `cargo xtask bench`, the same for dtpixel serve and for nginx's
-- empty_gif: pixel hits from 250,000 visitors (each an address in X-Forwarded-For, which the
-- collector, run with --trust-proxy as behind a load balancer, takes as the client's, and one
-- of four browser User-Agents), each visitor on one of 64 creators' pixel ids; 80 % page loads
-- and 20 % add-to-cart, every URL cache-busted (counted on every load).
local ids = {}
local events = { "page_load", "page_load", "page_load", "page_load", "add_to_cart" }
local agents = {
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}
local visitors = 250000
local counter = 0

function init(args)
  math.randomseed(os.time())
  for i = 1, 64 do
    ids[i] = string.format("%08x-%04x-4%03x-8%03x-%012x",
      math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
      math.random(0, 0xfff), math.random(0, 0xffffffff))
  end
end

function request()
  counter = counter + 1
  local visitor = math.random(0, visitors - 1)
  local id = ids[(visitor % #ids) + 1]
  local event = events[(counter % #events) + 1]
  local path = string.format("/pixel/%s/event.gif?event_type=%s&cb=%x%08x&utm_source=creator",
    id, event, counter, math.random(0, 0x7fffffff))
  return wrk.format("GET", path, {
    ["User-Agent"] = agents[(visitor % #agents) + 1],
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.floor(visitor / 65536) % 256, math.floor(visitor / 256) % 256, visitor % 256),
  })
end
