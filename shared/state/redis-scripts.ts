import { createHash } from 'node:crypto';
import { EXPIRY_FIELD } from './store.ts';

/**
 * The Lua scripts of the Redis adapter, one per operation of the port: a script runs atomically
 * on the server, so two function instances racing for the last unit of budget cannot both win.
 * embedded-store.ts implements the same steps in the same order; change both together (the
 * contract suite runs against both). Every write sets a TTL: nothing outlives its window.
 *
 * Times come from the caller (ARGV), never from the server's TIME: one clock for both adapters.
 * Only commands of Redis 4.0 (Tair and ApsaraDB for Redis, every edition) are used, and every key a
 * script touches is passed in KEYS and shares one hash tag (cluster and proxy modes).
 * Longer than 200 lines on purpose: one script per operation, side by side with embedded-store.ts.
 */

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
  readonly keys: number;
}

/** The SHA-1 is computed on first use: every bundle loads this module, few ever talk to Redis. */
const script = (name: string, keys: number, source: string): LuaScript => {
  let sha1: string | undefined;
  return {
    name,
    keys,
    source,
    get sha1() {
      sha1 ??= createHash('sha1').update(source).digest('hex');
      return sha1;
    },
  };
};

/**
 * Sets a sorted set's TTL to `extra` ms after its highest score (relative to the caller's now). The
 * pending set lives as long as the window it points into (its scores are expiry times, plus the
 * window): a crashed claim's trace must outlast the claim, or the claim would stay counted.
 */
const EXPIRE_AFTER_LAST = `
local function expireAfterLast(key, extra, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', key, math.max(1, math.ceil(tonumber(last[2]) + extra - now)))
  end
end
`;

/**
 * Forgets what left the window, and pending claims whose caller never settled them (a crash):
 * the first step of every budget operation, so none sees a claim its window no longer holds.
 */
const FORGET = `
local function forget(windowKey, pendingKey, now, window)
  if window then redis.call('ZREMRANGEBYSCORE', windowKey, '-inf', now - window) end
  local stale = redis.call('ZRANGEBYSCORE', pendingKey, '-inf', now)
  for i = 1, #stale do redis.call('ZREM', windowKey, stale[i]) end
  redis.call('ZREMRANGEBYSCORE', pendingKey, '-inf', now)
end
`;

/** KEYS: window, pending. ARGV: now, windowMs, limit, pendingMs, enforce (1/0), member. → {granted, duplicate, count, freesAt} */
export const CLAIM = script(
  'claim',
  2,
  `${EXPIRE_AFTER_LAST}${FORGET}
local now, window, limit, pendingMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local enforce, member = ARGV[5] == '1', ARGV[6]
forget(KEYS[1], KEYS[2], now, window)
local count = redis.call('ZCARD', KEYS[1])
local result
if redis.call('ZSCORE', KEYS[1], member) then
  result = {1, 1, count, 0}
elseif enforce and count >= limit then
  local leaving = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  result = {0, 0, count, tonumber(leaving[2]) + window}
else
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('ZADD', KEYS[2], now + pendingMs, member)
  result = {1, 0, count + 1, 0}
end
expireAfterLast(KEYS[1], window, now)
expireAfterLast(KEYS[2], window, now)
return result
`,
);

/** KEYS: window, pending. ARGV: now, windowMs, member. */
export const COMMIT = script(
  'commit',
  2,
  `${EXPIRE_AFTER_LAST}${FORGET}
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
forget(KEYS[1], KEYS[2], now, window)
redis.call('ZREM', KEYS[2], member)
if not redis.call('ZSCORE', KEYS[1], member) then redis.call('ZADD', KEYS[1], now, member) end
expireAfterLast(KEYS[1], window, now)
expireAfterLast(KEYS[2], window, now)
return 1
`,
);

/** KEYS: window, pending. ARGV: now, member. → 1 when a pending claim was released */
export const RELEASE = script(
  'release',
  2,
  `${FORGET}
forget(KEYS[1], KEYS[2], tonumber(ARGV[1]), nil)
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/**
 * KEYS: window, pending. ARGV: now, windowMs, limit, enforce (1/0), ahead, member.
 * → {granted, duplicate, count, freesAt}: CLAIM's answer, had `ahead` members been claimed first
 * at now. Read-only (no write command): the window is read as FORGET would leave it.
 */
export const PEEK_CLAIM = script(
  'peekClaim',
  2,
  `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local enforce, ahead, member = ARGV[4] == '1', tonumber(ARGV[5]), ARGV[6]
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local scores, counted = {}, false
for i = 1, #entries, 2 do
  local score, expiresAt = tonumber(entries[i + 1]), redis.call('ZSCORE', KEYS[2], entries[i])
  if score > now - window and not (expiresAt and tonumber(expiresAt) <= now) then
    scores[#scores + 1] = score
    if entries[i] == member then counted = true end
  end
end
local count = #scores + ahead
if counted then return {1, 1, count, 0} end
if enforce and count >= limit then
  -- The units claimed ahead sort last, at now.
  return {0, 0, count, (scores[count - limit + 1] or now) + window}
end
return {1, 0, count + 1, 0}
`,
);

/**
 * Whether the live record at `key` holds the field/value pairs of ARGV from `from` on: the
 * precondition of an operation that acts only on what its caller read (embedded-store.ts: holds).
 */
const HOLDS = `
local function holds(key, now, from)
  local expiresAt = redis.call('HGET', key, '${EXPIRY_FIELD}')
  if not expiresAt or tonumber(expiresAt) <= now then return false end
  for i = from, #ARGV - 1, 2 do
    if redis.call('HGET', key, ARGV[i]) ~= ARGV[i + 1] then return false end
  end
  return true
end
`;

/**
 * KEYS: log, record (the log again when unconditional). ARGV: now, windowMs, limit, member ('s:' or
 * 'r:' + token), conditional (1/0), then the record's required field/value pairs.
 * → {granted, duplicate, flips, clearsAt, unmet}
 */
export const ADMIT_FLIP = script(
  'admitFlip',
  2,
  `${EXPIRE_AFTER_LAST}${HOLDS}
local now, window, limit, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local function countFlips(entries)
  local flips, last = 0, nil
  for i = 1, #entries, 2 do
    local direction = string.sub(entries[i], 1, 1)
    if last and direction ~= last then flips = flips + 1 end
    last = direction
  end
  return flips
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local flips = countFlips(entries)
local result
if ARGV[5] == '1' and not holds(KEYS[2], now, 6) then
  result = {0, 0, flips, 0, 1}
elseif redis.call('ZSCORE', KEYS[1], member) then
  result = {1, 1, flips, 0}
elseif flips >= limit then
  local left, clearsAt = flips, 0
  for i = 1, #entries - 2, 2 do
    if string.sub(entries[i], 1, 1) ~= string.sub(entries[i + 2], 1, 1) then left = left - 1 end
    if left < limit then
      clearsAt = tonumber(entries[i + 1]) + window
      break
    end
  end
  result = {0, 0, flips, clearsAt}
else
  redis.call('ZADD', KEYS[1], now, member)
  result = {1, 0, countFlips(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')), 0}
end
expireAfterLast(KEYS[1], window, now)
return result
`,
);

/**
 * KEYS and ARGV as ADMIT_FLIP's. → its answer, read-only: the window is read, not trimmed, and
 * the flips a grant would give are counted with the member where ZADD would put it.
 */
export const PEEK_FLIP = script(
  'peekFlip',
  2,
  `${HOLDS}
local now, window, limit, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
-- Redis orders the members of one score bytewise; Lua's < on strings follows the server's locale.
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function countFlips(list)
  local flips = 0
  for i = 2, #list do
    if string.sub(list[i], 1, 1) ~= string.sub(list[i - 1], 1, 1) then flips = flips + 1 end
  end
  return flips
end
local raw = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local members, scores, present = {}, {}, false
for i = 1, #raw, 2 do
  local score = tonumber(raw[i + 1])
  if score > now - window then
    members[#members + 1], scores[#scores + 1] = raw[i], score
    if raw[i] == member then present = true end
  end
end
local flips = countFlips(members)
if ARGV[5] == '1' and not holds(KEYS[2], now, 6) then return {0, 0, flips, 0, 1} end
if present then return {1, 1, flips, 0} end
if flips >= limit then
  local left = flips
  for i = 1, #members - 1 do
    if string.sub(members[i], 1, 1) ~= string.sub(members[i + 1], 1, 1) then left = left - 1 end
    if left < limit then return {0, 0, flips, scores[i] + window} end
  end
  return {0, 0, flips, 0}
end
local admitted, placed = {}, false
for i = 1, #members do
  if not placed and (scores[i] > now or (scores[i] == now and before(member, members[i]))) then
    admitted[#admitted + 1], placed = member, true
  end
  admitted[#admitted + 1] = members[i]
end
if not placed then admitted[#admitted + 1] = member end
return {1, 0, countFlips(admitted), 0}
`,
);

/** KEYS: record. ARGV: now. → flat field/value list, empty when absent or expired. Read-only (the TTL removes it). */
export const GET_RECORD = script(
  'getRecord',
  1,
  `
local expiresAt = redis.call('HGET', KEYS[1], '${EXPIRY_FIELD}')
if not expiresAt or tonumber(expiresAt) <= tonumber(ARGV[1]) then return {} end
return redis.call('HGETALL', KEYS[1])
`,
);

/** KEYS: record. ARGV: now, ttlMs, field, value, field, value… */
export const PUT_RECORD = script(
  'putRecord',
  1,
  `
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
if ARGV[3] ~= '' then
  local expiresAt = redis.call('HGET', KEYS[1], '${EXPIRY_FIELD}')
  if expiresAt and tonumber(expiresAt) > now and redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[4] then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '${EXPIRY_FIELD}', now + ttl, unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`,
);

/** KEYS: record. ARGV: now, field ('' for no condition), value. → 1 when deleted */
export const DELETE_RECORD = script(
  'deleteRecord',
  1,
  `
local expiresAt = redis.call('HGET', KEYS[1], '${EXPIRY_FIELD}')
if not expiresAt then return 0 end
if tonumber(expiresAt) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 0
end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
);

/** KEYS: log. ARGV: now, windowMs, member. → 1 when it was there (and still in the window) */
export const DROP_FLIP = script(
  'dropFlip',
  1,
  `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
return redis.call('ZREM', KEYS[1], ARGV[3])
`,
);

/**
 * KEYS: key. ARGV: now, ttlMs, expiresAt (now + ttlMs), fingerprint. → 'first', 'repeat' or 'reused'
 * The value is `<expiresAt> <fingerprint>` (a fingerprint has no space): whether it is still live is
 * decided on the caller's clock, as every expiry here; PX is the server's clean-up.
 */
export const REMEMBER_ONCE = script(
  'rememberOnce',
  1,
  `
local held = redis.call('GET', KEYS[1])
if held then
  local space = string.find(held, ' ', 1, true)
  if space and tonumber(string.sub(held, 1, space - 1)) > tonumber(ARGV[1]) then
    if string.sub(held, space + 1) == ARGV[4] then return 'repeat' end
    return 'reused'
  end
end
redis.call('SET', KEYS[1], ARGV[3] .. ' ' .. ARGV[4], 'PX', ARGV[2])
return 'first'
`,
);

/** KEYS: key. */
export const DELETE_KEY = script('deleteKey', 1, `return redis.call('DEL', KEYS[1])`);
