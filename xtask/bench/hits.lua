-- wrk request generator for `cargo xtask bench`: pixel hits spread over 64 creators' pixel ids,
-- 80 % page loads and 20 % add-to-cart, every URL cache-busted (counted on every load), the same
-- for dtpixel serve and for nginx's empty_gif.
local ids = {}
local events = { "page_load", "page_load", "page_load", "page_load", "add_to_cart" }
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
  local id = ids[(counter % #ids) + 1]
  local event = events[(counter % #events) + 1]
  local path = string.format("/pixel/%s/event.gif?event_type=%s&cb=%x%08x&utm_source=creator",
    id, event, counter, math.random(0, 0x7fffffff))
  return wrk.format("GET", path)
end
