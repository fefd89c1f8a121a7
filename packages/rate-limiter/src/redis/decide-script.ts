/**
 * One atomic decision for all limits of a request, run inside Redis (EVALSHA). The formulas
 * are those of algorithms/gcra.ts and algorithms/sliding-window.ts, operation for operation in
 * milliseconds (doubles, as in JS, so both give bit-identical answers), with Redis's own clock
 * so replicas with skewed clocks still agree.
 *   KEYS[i]  one per limit
 *   ARGV[1]  now in milliseconds, or '' for redis TIME (tests pass a fixed clock)
 *   ARGV[2]  cost of this request
 *   then per limit: kind (1 gcra | 2 sliding window), a, b, enforced (1 | 0)
 *     gcra: a = emission interval, b = capacity ((burst + 1) * interval)
 *     sliding window: a = limit, b = window
 * Returns {admitted, then per limit: allowed, remaining, reset ms, retry ms}. All limits are
 * evaluated first; state is written only if every enforced limit allowed the request. Keys
 * expire 1 s after their state stops mattering (slack for clock jitter), so idle keys vanish.
 */
export const DECIDE_SCRIPT = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[2])
local out = {1}
local admitted = 1
local writes = {}
for i = 1, #KEYS do
  local at = 2 + (i - 1) * 4
  local kind = ARGV[at + 1]
  local a = tonumber(ARGV[at + 2])
  local b = tonumber(ARGV[at + 3])
  local allowed, remaining, reset, retry
  if kind == '1' then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
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
    local st = redis.call('HMGET', KEYS[i], 'w', 'p', 'c')
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
  if allowed == 0 and ARGV[at + 4] == '1' then admitted = 0 end
  out[#out + 1] = allowed
  out[#out + 1] = remaining
  out[#out + 1] = math.ceil(reset)
  out[#out + 1] = math.ceil(retry)
end
out[1] = admitted
if admitted == 1 then
  for i = 1, #KEYS do
    local wr = writes[i]
    if wr then
      if wr[1] == 1 then
        redis.call('SET', KEYS[i], string.format('%.17g', wr[2]), 'PX', math.ceil(wr[3]) + 1000)
      else
        redis.call('HSET', KEYS[i], 'w', string.format('%.17g', wr[2]), 'p', wr[3], 'c', wr[4])
        redis.call('PEXPIRE', KEYS[i], math.ceil(wr[5]) + 1000)
      end
    end
  end
end
return out
`;
