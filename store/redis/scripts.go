package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each Store method runs one of them with EVALSHA
// (falling back to EVAL on NOSCRIPT, as goredis.Script.Run does), so that
// each step is atomic on the server and costs one round trip. (Peek needs
// no script: it is one GETRANGE of the secret's header.)
//
// Every record starts with its format version (see codec.go); every
// script checks it on each record it reads, before it writes anything, and
// fails with a BADVERSION error on a version it does not know.
//
// Reveal and Burn may run twice for one call: go-redis re-sends a command
// whose reply it lost (the script ran, the connection dropped), and the
// Store itself tries again after a network error. Each call passes an
// outcome key of its own (<prefix>{slot}r<random token>, declared in KEYS,
// in the pair's slot); the first run that changes something records its
// answer there with a short expiry, and a later run of the same call
// returns that answer instead of finding the secret gone. A call given an
// [onetime.Replay] passes instead the key of its replay id
// (<prefix>{slot}i<rest of the replay id>): its outcome is kept until the
// replay's ExpiresAt, for every later call with that id, and it carries
// that time so that a call whose now is past it no longer sees it.
//
// Reveal and Burn also get the caller's deadline, if any, in unix
// microseconds, and compare it with Redis's own clock (TIME) just before
// they change anything: a script that runs after the deadline (Redis was
// stalled, the command waited in a socket buffer) changes nothing and
// answers so, since its answer can no longer reach the caller.
//
// KEYS name the record a method is asked about. The partner record of the
// pair (the receipt of a secret, the secret of a receipt) is found from the
// record itself and shares its hash slot, so on a Cluster the script still
// touches one slot; it is not in KEYS because its name is not known before
// the record is read. Redis 7 allows undeclared keys of the script's own
// slot.
//
// Times arrive as integer microseconds (ARGV), compared with the 7-byte
// times of the records (see codec.go). Updates patch the fixed header with
// SETRANGE, which keeps the key's expiry, and only after reading the key
// in the same script: nothing recreates a key without its expiry.

// Library functions, prepended to the scripts that use them (a script
// defines its functions on every run, so each takes only what it needs).
const luaB64 = `
local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
-- b64 is base64url without padding, as Go's base64.RawURLEncoding. It
-- collects character codes and makes one string at the end, some 2.5
-- times faster than building it piece by piece with string.sub and
-- concatenation (which took a few microseconds of every Reveal).
local function b64(s)
  local c, n = {}, 0
  for i = 1, #s, 3 do
    local b1, b2, b3 = string.byte(s, i, i + 2)
    local v = b1 * 65536 + (b2 or 0) * 256 + (b3 or 0)
    local d4 = v % 64
    v = (v - d4) / 64
    local d3 = v % 64
    v = (v - d3) / 64
    local d2 = v % 64
    c[n + 1] = string.byte(B64, (v - d2) / 64 + 1)
    c[n + 2] = string.byte(B64, d2 + 1)
    n = n + 2
    if b2 then n = n + 1; c[n] = string.byte(B64, d3 + 1) end
    if b3 then n = n + 1; c[n] = string.byte(B64, d4 + 1) end
  end
  return string.char(unpack(c))
end
`

const luaVersioned = `
-- versioned returns the record r, or stops the script with an error if r
-- is not of format version 1 (see codec.go). Scripts call it on every
-- record before they change anything, so an unknown record is refused,
-- never misread, and nothing is half done.
local function versioned(r)
  if string.byte(r, 1) ~= 1 then
    error({err = 'BADVERSION stored record of an unknown format version'})
  end
  return r
end
`

// luaPresent needs luaVersioned.
const luaPresent = `
-- present reports (1 or 0) whether the secret at skey exists and is
-- unexpired at now.
local function present(skey, now)
  local h = redis.call('GETRANGE', skey, 0, 7)
  if #h == 0 then return 0 end
  versioned(h)
  if #h == 8 and now < struct.unpack('>i7', h, 2) then return 1 end
  return 0
end
`

// luaStamp needs luaVersioned.
const luaStamp = `
-- live_header returns the header of the receipt at mkey if it exists and
-- is unexpired at now, else nil.
local function live_header(mkey, now)
  local h = redis.call('GETRANGE', mkey, 0, 60)
  if #h == 0 then return nil end
  versioned(h)
  if #h < 61 or now >= struct.unpack('>i7', h, 38) then return nil end
  return h
end

-- stamp moves the receipt at mkey, whose header (or record) h is, to
-- state (2 viewed, 3 received, 4 burned), stamping Updated and, for
-- received and burned, the event's time. It returns the new first 30
-- bytes of the record (version to burned).
local function stamp(mkey, h, now, state)
  local t = struct.pack('>i7', now)
  local rec, burn = string.sub(h, 17, 23), string.sub(h, 24, 30)
  if state == 3 then rec = t elseif state == 4 then burn = t end
  local head = string.sub(h, 1, 1) .. string.char(state) .. string.sub(h, 3, 9) .. t .. rec .. burn
  redis.call('SETRANGE', mkey, 0, head)
  return head
end

-- recorded returns what an earlier run of this very call (the same
-- outcome key) answered, if it left an outcome: the retry of a call whose
-- reply was lost answers the same. A replay's outcome (kind in lower case,
-- then its expiry) counts only while now is before that expiry.
local function recorded(okey, now)
  local o = redis.call('GET', okey)
  if not o then return nil end
  versioned(o)
  local kind, body = string.sub(o, 2, 2), 3
  if kind == 's' or kind == 'w' or kind == 'b' then
    if now >= struct.unpack('>i7', o, 3) then return nil end
    kind, body = string.upper(kind), 10
  end
  if kind == 'W' then return 1 end
  if kind == 'S' or kind == 'B' then return string.sub(o, body) end
  error({err = 'BADVERSION stored outcome of an unknown kind'})
end

-- record keeps the outcome of kind ('S', 'W' or 'B') with its body at
-- okey for px milliseconds. till is '' for the outcome of one call, or a
-- replay's ExpiresAt in microseconds, kept in the record (kind in lower
-- case) for recorded to compare with a later call's now.
local function record(okey, kind, body, px, till)
  if till ~= '' then
    kind, body = string.lower(kind), struct.pack('>i7', tonumber(till)) .. body
  end
  redis.call('SET', okey, '\1' .. kind .. body, 'PX', px)
end

-- late reports whether Redis's clock has reached the caller's deadline
-- (unix microseconds; '' when the caller has none). Both clocks are
-- assumed to agree (NTP on the application servers and on Redis).
local function late(deadline)
  if deadline == '' then return false end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2]) >= tonumber(deadline)
end
`

const luaIndex = `
-- server_seconds is Redis's own clock, in seconds. It is used only to
-- drop owner-index entries whose receipt Redis itself has already
-- expired (the same clock that runs PEXPIREAT), never for the logical
-- expiry the caller's now decides.
local function server_seconds()
  return tonumber(redis.call('TIME')[1])
end

-- index_add lists a receipt under its owner: score is Created in
-- microseconds; members are seq (4 bytes) .. tail, where seq orders
-- receipts created in the same microsecond (ZREVRANGE gives the last
-- created first). The index is capped and its oldest entries pruned when
-- Redis has expired their receipts; its own expiry follows its latest
-- receipt's. Returns the member added.
local function index_add(key, score, tail, px, cap)
  local seq = 0
  local top = redis.call('ZREVRANGEBYSCORE', key, score, score, 'LIMIT', 0, 1)
  if top[1] then seq = struct.unpack('>I4', top[1]) + 1 end
  local member = struct.pack('>I4', seq) .. tail
  redis.call('ZADD', key, score, member)
  local n = redis.call('ZCARD', key)
  if n > cap then redis.call('ZREMRANGEBYRANK', key, 0, n - cap - 1) end
  local secs = server_seconds()
  for _, m in ipairs(redis.call('ZRANGE', key, 0, 3)) do
    if struct.unpack('>I4', m, 5) < secs then redis.call('ZREM', key, m) end
  end
  if redis.call('PEXPIRETIME', key) < tonumber(px) then
    redis.call('PEXPIREAT', key, px)
  end
  return member
end
`

// createScript stores a pair, and with a third key lists the receipt in
// its owner's index (one server: all in one step).
// KEYS: secret, receipt[, index]. ARGV: secret record, its PXAT, receipt
// record, its PXAT[, score, member tail, cap].
// Returns 0 when either record exists (nothing written), else 1.
var createScript = goredis.NewScript(luaIndex + `
-- SET NX, not EXISTS then SET: one command less on the hot path. A
-- receipt that exists undoes the secret just written, inside this
-- atomic script, so nothing is written.
if not redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2], 'NX') then
  -- The client retries a call whose reply it lost; a retry of a Create
  -- that was carried out finds its own records (sealed bytes are unique
  -- to one Create) and succeeds, rather than calling them a duplicate.
  if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[3] then return 1 end
  return 0
end
if not redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[4], 'NX') then
  redis.call('DEL', KEYS[1])
  return 0
end
if KEYS[3] then index_add(KEYS[3], ARGV[5], ARGV[6], ARGV[4], tonumber(ARGV[7])) end
return 1
`)

// indexAddScript lists a receipt in its owner's index: the first half of
// Create on a Cluster, where the index lives in another slot.
// KEYS: index. ARGV: score, member tail, receipt PXAT, cap.
// Returns the member added.
var indexAddScript = goredis.NewScript(luaIndex + `
return index_add(KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
`)

// revealScript consumes a secret. It is safe to run again with the same
// arguments (go-redis re-sends a command whose reply it lost): its first
// run records its outcome under the outcome key, a name unique to the call
// (or to its replay id) in the pair's slot, for px milliseconds, and a
// later run with that key answers the recorded outcome and changes
// nothing. The recorded outcome is looked for first, before the secret.
// KEYS: secret, outcome. ARGV: pair key prefix ("<prefix>{slot}"), check,
// now, px, till (the replay's ExpiresAt, or empty), deadline (or empty).
// Returns 0 (missing or expired), 1 (wrong passphrase, counted; the
// secret burned at its limit), 2 (past the deadline, nothing changed) or
// the secret's record as it was.
var revealScript = goredis.NewScript(luaB64 + luaVersioned + luaStamp + `
local now = tonumber(ARGV[3])
local done = recorded(KEYS[2], now)
if done then return done end
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
versioned(s)
if now >= struct.unpack('>i7', s, 2) then return 0 end
local mkey = ARGV[1] .. 'm' .. b64(string.sub(s, 9, 24))
local h = live_header(mkey, now)
if late(ARGV[6]) then return 2 end
local cl = string.byte(s, 29)
if cl > 0 and string.sub(s, 30, 29 + cl) ~= ARGV[2] then
  local attempts = struct.unpack('>I2', s, 25) + 1
  local max = struct.unpack('>I2', s, 27)
  if attempts >= max or attempts >= 65535 then
    redis.call('DEL', KEYS[1])
    if h then stamp(mkey, h, now, 4) end
  else
    redis.call('SETRANGE', KEYS[1], 24, struct.pack('>I2', attempts))
  end
  record(KEYS[2], 'W', '', ARGV[4], ARGV[5])
  return 1
end
redis.call('DEL', KEYS[1])
if h then stamp(mkey, h, now, 3) end
record(KEYS[2], 'S', s, ARGV[4], ARGV[5])
return s
`)

// receiptScript reads a receipt and whether its secret is present.
// KEYS: receipt. ARGV: pair key prefix, now.
// Returns 0 (missing or expired) or {record, present}.
var receiptScript = goredis.NewScript(luaB64 + luaVersioned + luaPresent + `
local m = redis.call('GET', KEYS[1])
if not m then return 0 end
versioned(m)
local now = tonumber(ARGV[2])
if now >= struct.unpack('>i7', m, 38) then return 0 end
return {m, present(ARGV[1] .. 's' .. b64(string.sub(m, 45, 60)), now)}
`)

// viewScript reads a receipt and whether its secret is present, and moves
// a new receipt whose secret is present to viewed.
// KEYS: receipt. ARGV: pair key prefix, now.
// Returns 0 (missing or expired) or {record as it was, present}.
var viewScript = goredis.NewScript(luaB64 + luaVersioned + luaPresent + luaStamp + `
local m = redis.call('GET', KEYS[1])
if not m then return 0 end
versioned(m)
local now = tonumber(ARGV[2])
if now >= struct.unpack('>i7', m, 38) then return 0 end
local p = present(ARGV[1] .. 's' .. b64(string.sub(m, 45, 60)), now)
if p == 1 and string.byte(m, 2) == 1 then stamp(KEYS[1], m, now, 2) end
return {m, p}
`)

// burnScript destroys the live secret of a new or viewed receipt. Like
// revealScript, it records its outcome for a retry of the same call (or a
// call with the same replay id), and looks for it first.
// KEYS: receipt, outcome. ARGV: pair key prefix, now, px, till, deadline.
// Returns 0 (nothing to burn), 2 (past the deadline, nothing changed) or
// the receipt's new record.
var burnScript = goredis.NewScript(luaB64 + luaVersioned + luaPresent + luaStamp + `
local now = tonumber(ARGV[2])
local done = recorded(KEYS[2], now)
if done then return done end
local m = redis.call('GET', KEYS[1])
if not m then return 0 end
versioned(m)
if now >= struct.unpack('>i7', m, 38) then return 0 end
local st = string.byte(m, 2)
if st ~= 1 and st ~= 2 then return 0 end
local skey = ARGV[1] .. 's' .. b64(string.sub(m, 45, 60))
if present(skey, now) == 0 then return 0 end
if late(ARGV[5]) then return 2 end
redis.call('DEL', skey)
local r = stamp(KEYS[1], m, now, 4) .. string.sub(m, 31)
record(KEYS[2], 'B', r, ARGV[3], ARGV[4])
return r
`)

// recentIndexScript reads a page of an owner's index, newest first, and
// drops the entries whose receipts Redis has expired: the first half of
// Recent on a Cluster.
// KEYS: index. ARGV: offset, count.
// Returns {number dropped, live members...}.
var recentIndexScript = goredis.NewScript(luaIndex + `
local first = tonumber(ARGV[1])
local ms = redis.call('ZREVRANGE', KEYS[1], first, first + tonumber(ARGV[2]) - 1)
local secs = server_seconds()
local out = {0}
for _, m in ipairs(ms) do
  if struct.unpack('>I4', m, 5) < secs then
    redis.call('ZREM', KEYS[1], m)
    out[1] = out[1] + 1
  else
    out[#out + 1] = m
  end
end
return out
`)

// recentScript lists an owner's live receipts, newest first, with their
// secrets' presence: all of Recent on one server, where every key is
// reachable from one script. Entries whose receipt is gone are dropped
// (Create is atomic there, so a missing receipt is gone for good).
// KEYS: index. ARGV: key prefix, now, limit.
// Returns {member, record, present, member, record, present, ...}.
var recentScript = goredis.NewScript(luaB64 + luaVersioned + luaPresent + luaIndex + `
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local secs = server_seconds()
local out, first, batch = {}, 0, limit + 16
while #out < 3 * limit do
  local ms = redis.call('ZREVRANGE', KEYS[1], first, first + batch - 1)
  local dropped = 0
  for _, mem in ipairs(ms) do
    local gone = struct.unpack('>I4', mem, 5) < secs
    if not gone then
      local pre = ARGV[1] .. '{' .. string.format('%02x%02x%02x%02x', string.byte(mem, 9, 12)) .. '}'
      local r = redis.call('GET', pre .. 'm' .. b64(string.sub(mem, 13, 28)))
      if not r then
        gone = true
      elseif now < struct.unpack('>i7', versioned(r), 38) and #out < 3 * limit then
        out[#out + 1] = mem
        out[#out + 1] = r
        out[#out + 1] = present(pre .. 's' .. b64(string.sub(r, 45, 60)), now)
      end
    end
    if gone then
      redis.call('ZREM', KEYS[1], mem)
      dropped = dropped + 1
    end
  end
  if #ms < batch then break end
  first = first + #ms - dropped
end
return out
`)

// allScripts are every script, for preloading in tests.
var allScripts = []*goredis.Script{
	createScript, indexAddScript, revealScript, receiptScript, viewScript,
	burnScript, recentIndexScript, recentScript,
}
