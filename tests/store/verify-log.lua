-- verify-log.lua - replay the proof-of-consent stream KEYS[1] and compare it
-- with every record matching ARGV[1] (e.g. "cm:c:*").
-- Returns {records, records whose state differs from the replayed log,
--          keys logged but without a record, entries whose "old" value does
--          not follow the previous entry, log entries}.
local state, entries, chain = {}, 0, 0
local start = '-'
while true do
  local r = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 10000)
  if #r == 0 then break end
  for _, e in ipairs(r) do
    entries = entries + 1
    local f, key, changes = e[2], nil, nil
    for j = 1, #f, 2 do
      if f[j] == 'key' then key = f[j + 1] elseif f[j] == 'changes' then changes = f[j + 1] end
    end
    if key and changes then
      local s = state[key] or {}
      for p, old, new in string.gmatch(changes, '(%a+):(%a+)%->(%a+)') do
        if old ~= (s[p] or 'unknown') or old == new then chain = chain + 1 end
        s[p] = new
      end
      state[key] = s
    end
  end
  start = '(' .. r[#r][1]
end
local function lab(x)
  if x == '1' then return 'granted' elseif x == '0' then return 'denied' end
  return nil
end
local n, bad, cursor = 0, 0, '0'
repeat
  local res = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 10000)
  cursor = res[1]
  for _, k in ipairs(res[2]) do
    if state[k] ~= false then
      n = n + 1
      local v = redis.call('HMGET', k, 'open', 'click')
      local s = state[k]
      if not s or lab(v[1]) ~= s.open or lab(v[2]) ~= s.click then bad = bad + 1 end
      state[k] = false
    end
  end
until cursor == '0'
local orphan = 0
for _, s in pairs(state) do if s ~= false then orphan = orphan + 1 end end
return {n, bad, orphan, chain, entries}
