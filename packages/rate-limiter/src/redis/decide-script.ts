/**
 * Atomic decisions for a batch of requests (all requests of one event-loop turn), run inside
 * Redis (EVALSHA). Requests are decided one after the other, in order, each over all its limits;
 * the formulas are those of algorithms/gcra.ts and algorithms/sliding-window.ts, operation for
 * operation in milliseconds (doubles, as in JS, so both give bit-identical answers), with Redis's
 * own clock so replicas with skewed clocks still agree.
 *   KEYS     every request's limit keys, request after request
 *   ARGV[1]  now in milliseconds, or '' for redis TIME (tests pass a fixed clock)
 *   ARGV[2]  number of requests
 *   then per request: its number of limits, its cost (hits), then per limit: kind (1 gcra |
 *   2 sliding window), a, b, enforced (1 | 0)
 *     gcra: a = emission interval, b = capacity ((burst + 1) * interval)
 *     sliding window: a = limit, b = window
 * Returns, per request, {admitted, then per limit: allowed, remaining, reset ms, retry ms}, all
 * flat. A request's limits are all evaluated first; its state is written only if every enforced
 * limit allowed it. Keys expire 1 s after their state stops mattering (slack for clock jitter),
 * so idle keys vanish.
 */
export const DECIDE_SCRIPT = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local out = {}
local at = 2
local k = 0
for _ = 1, tonumber(ARGV[2]) do
  local n = tonumber(ARGV[at + 1])
  local cost = tonumber(ARGV[at + 2])
  at = at + 2
  local head = #out + 1
  out[head] = 1
  local admitted = 1
  local writes = {}
  for i = 1, n do
    local key = KEYS[k + i]
    local kind = ARGV[at + 1]
    local a = tonumber(ARGV[at + 2])
    local b = tonumber(ARGV[at + 3])
    local enforced = ARGV[at + 4] == '1'
    at = at + 4
    local allowed, remaining, reset, retry
    if kind == '1' then
      local tat = tonumber(redis.call('GET', key) or '0')
      if tat < now then tat = now end
      local nxt = tat + cost * a
      local allow_at = nxt - b
      if now < allow_at then
        allowed, remaining, reset, retry = 0, 0, tat - now, allow_at - now
      else
        allowed, remaining, reset, retry = 1, math.floor((now - allow_at) / a + 1e-9), nxt - now, 0
        writes[i] = {1, nxt, nxt - now}
      end
    else
      local w = math.floor(now / b)
      local st = redis.call('HMGET', key, 'w', 'p', 'c')
      local sw = tonumber(st[1])
      local prev, curr = 0, 0
      if sw == w then
        prev, curr = tonumber(st[2]) or 0, tonumber(st[3]) or 0
      elseif sw == w - 1 then
        prev = tonumber(st[3]) or 0
      end
      local e = now - w * b
      local est = prev * (b - e) / b + curr
      if est + cost <= a then
        allowed, remaining, retry = 1, math.floor(a - est - cost + 1e-9), 0
        if curr + cost > 0 then reset = 2 * b - e elseif prev > 0 then reset = b - e else reset = 0 end
        writes[i] = {2, w, prev, curr + cost, (w + 2) * b - now}
      else
        allowed, remaining = 0, 0
        if curr > 0 then reset = 2 * b - e else reset = b - e end
        if curr + cost <= a and prev > 0 then
          retry = math.max(0, b - (a - curr - cost) * b / prev - e)
        elseif cost > a then
          retry = 2 * b
        else
          local into = 0
          if curr > 0 then into = math.max(0, b - (a - cost) * b / curr) end
          retry = b - e + into
        end
      end
    end
    if allowed == 0 and enforced then admitted = 0 end
    out[#out + 1] = allowed
    out[#out + 1] = remaining
    out[#out + 1] = math.ceil(reset)
    out[#out + 1] = math.ceil(retry)
  end
  out[head] = admitted
  if admitted == 1 then
    for i = 1, n do
      local wr = writes[i]
      if wr then
        if wr[1] == 1 then
          redis.call('SET', KEYS[k + i], string.format('%.17g', wr[2]), 'PX', math.ceil(wr[3]) + 1000)
        else
          redis.call('HSET', KEYS[k + i], 'w', string.format('%.17g', wr[2]), 'p', wr[3], 'c', wr[4])
          redis.call('PEXPIRE', KEYS[k + i], math.ceil(wr[5]) + 1000)
        end
      end
    end
  end
  k = k + n
end
return out
`;
