package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Reveal, Burn and View each run one of them with
// EVALSHA (falling back to EVAL on NOSCRIPT, as goredis.Script.Run does),
// so that each step is atomic on the server and costs one round trip.
// Create is one SET NX of the pair's key when no other pair shares its
// slot, and createScript otherwise (or with an owner, to list the
// receipt); Peek and Receipt, which change nothing, are one MGET.
//
// Every value starts with its format version (see codec.go and
// legacy.go); every script checks it on each value it reads, before it
// writes anything, and fails with a BADVERSION error on a version it does
// not know.
//
// A pair is one key, <prefix>{<slot>}, holding its record of format 2
// (see codec.go); the scripts find the record by the rest of the id they
// are given. When the key does not name that id, the scripts look for
// records of format 1 (legacy.go), which a store written by earlier code
// holds, and serve those as the earlier scripts did (luaLegacy): the
// same answers, the same changes, in the same atomic step.
//
// Reveal and Burn may run twice for one call: go-redis re-sends a command
// whose reply it lost (the script ran, the connection dropped), and the
// Store itself tries again after a network error. Each call passes an
// outcome key of its own (<prefix>{slot}r<random token>, declared in KEYS,
// in the pair's slot); the run that changes something records its answer
// there with a short expiry, in the same atomic step, and a later run of
// the same call answers that instead of finding the secret gone. It looks
// for the outcome only where a run of the same call may have left one:
// where the secret is gone or the passphrase is wrong. (A secret that is
// still there with the right passphrase was consumed by no run of this
// call: that run would have revealed it.) A call given an
// [onetime.Replay] passes instead the key of its replay id
// (<prefix>{slot}i<rest of the replay id>) and looks for it first, since
// a later call with the same replay id gets the recorded answer whatever
// it presents: its outcome is kept until the replay's ExpiresAt, and it
// carries that time so that a call whose now is past it no longer sees it.
//
// Reveal and Burn also get the caller's deadline, if any, in unix
// microseconds, and compare it with Redis's own clock (TIME) just before
// they change anything: a script that runs after the deadline (Redis was
// stalled, the command waited in a socket buffer) changes nothing and
// answers so, since its answer can no longer reach the caller.
//
// Times arrive as integer microseconds (ARGV), compared with the records'
// times. Updates rewrite a pair's value with SET KEEPTTL (or patch the
// attempts with SETRANGE), which keep the key's expiry, and only after
// reading the key in the same script: nothing recreates a key without its
// expiry.

// Library functions, prepended to the scripts that use them (a script
// defines its functions on every run, so each takes only what it needs).

// luaPair reads and rewrites the records of format 2 (codec.go).
const luaPair = `
local function malformed()
  error({err = 'BADFORMAT stored record is malformed'})
end

-- pairs_of returns b, the value of a pair's key, or stops the script if
-- it is not of format 2.
local function pairs_of(b)
  if string.byte(b, 1) ~= 2 then
    error({err = 'BADVERSION stored record of an unknown format version'})
  end
  return b
end

-- uv reads an unsigned varint (Go's binary.Uvarint) at i of b; returns
-- it and the position after it.
local function uv(b, i)
  local v, m = 0, 1
  while true do
    local c = string.byte(b, i)
    if not c or m > 2^42 then malformed() end
    i = i + 1
    if c < 128 then return v + c * m, i end
    v, m = v + (c - 128) * m, m * 128
  end
end

-- skip returns the position after the length-prefixed field at i of b.
local function skip(b, i)
  local n
  n, i = uv(b, i)
  return i + n
end

-- record parses the record that starts at i of b into a table: flags f,
-- state, ids s and m (raw rests), exp (the receipt's ExpiresAt), and,
-- when the secret is there, its expires, attempts, max, check and proof;
-- with the positions of its parts for rewriting it: at (start), opt
-- (optional times), tail (receipt's tail), sec (secret), apos (attempts)
-- and stop (after the record).
local function record(b, i)
  if #b < i + 48 then malformed() end
  local f = string.byte(b, i)
  local r = {at = i, f = f, state = string.byte(b, i + 1),
    s = string.sub(b, i + 2, i + 17), m = string.sub(b, i + 18, i + 33)}
  local p = i + 41
  if bit.band(f, 32) ~= 0 then
    local created = struct.unpack('>i7', b, i + 34)
    local d1, d2 = struct.unpack('>I4I4', b, p)
    r.sexp, r.exp = created + d1 * 1000000, created + d2 * 1000000
    p = p + 8
  else
    r.sexp, r.exp = struct.unpack('>i7i7', b, p)
    p = p + 14
  end
  r.opt = p
  if bit.band(f, 4) ~= 0 then r.upd = string.sub(b, p, p + 6); p = p + 7 end
  if bit.band(f, 8) ~= 0 then r.rcv = string.sub(b, p, p + 6); p = p + 7 end
  if bit.band(f, 16) ~= 0 then r.brn = string.sub(b, p, p + 6); p = p + 7 end
  r.tail = p
  if bit.band(f, 64) ~= 0 then p = skip(b, skip(b, skip(b, p))) end
  p = skip(b, p)
  r.sec = p
  if bit.band(f, 2) ~= 0 then
    local sf = 0
    if bit.band(f, 128) ~= 0 then sf = string.byte(b, p) or 0; p = p + 1 end
    r.apos = p
    if bit.band(sf, 16) ~= 0 then
      r.wide = true
      r.attempts, r.max = struct.unpack('>I2I2', b, p)
      p = p + 4
    else
      r.attempts, r.max = string.byte(b, p, p + 1)
      p = p + 2
    end
    r.check, r.proof = '', ''
    if bit.band(sf, 1) ~= 0 then
      local n = string.byte(b, p) or 0
      r.check = string.sub(b, p + 1, p + n)
      p = p + 1 + n
    end
    if bit.band(sf, 2) ~= 0 then
      local n = string.byte(b, p) or 0
      r.proof = string.sub(b, p + 1, p + n)
      p = p + 1 + n
    end
    r.expires = r.sexp
    if bit.band(sf, 4) ~= 0 then r.expires = struct.unpack('>i7', b, p); p = p + 7 end
    if bit.band(sf, 8) ~= 0 then p = skip(b, p) end
    p = skip(b, p)
  end
  if p > #b + 1 or not r.max and bit.band(f, 2) ~= 0 then malformed() end
  r.stop = p
  return r
end

-- find returns the record of the pair value b whose id of the given kind
-- ('s' secret, 'm' receipt) has the raw rest given, or nil.
local function find(b, kind, rest)
  local i = 2
  while i <= #b do
    local r = record(b, i)
    if r[kind] == rest then return r end
    i = r.stop
  end
  return nil
end

-- whole is record r of b as one value of format 2: what a script answers.
local function whole(b, r)
  return '\2' .. string.sub(b, r.at, r.stop - 1)
end

-- live reports whether record r holds its secret, unexpired at now.
local function live(r, now)
  return r.expires ~= nil and now < r.expires
end

-- changed returns record r of b moved to state st (nil: left as it is)
-- at now: Updated stamped, and Received (st 3) or Burned (st 4). With
-- drop, the secret is left out, and the whole record if its receipt has
-- expired at now too (''): nothing of it can be served any more.
local function changed(b, r, st, now, drop)
  if drop and now >= r.exp then return '' end
  local state, upd, rcv, brn = r.state, r.upd, r.rcv, r.brn
  if st then
    local t = struct.pack('>i7', now)
    state, upd = st, t
    if st == 3 then rcv = t elseif st == 4 then brn = t end
  end
  local f = bit.band(r.f, 0xE3)
  if upd then f = f + 4 end
  if rcv then f = f + 8 end
  if brn then f = f + 16 end
  local sec = ''
  if drop then f = bit.band(f, 0x7D) else sec = string.sub(b, r.sec, r.stop - 1) end
  return string.char(f, state) .. string.sub(b, r.at + 2, r.opt - 1) .. (upd or '') .. (rcv or '') ..
    (brn or '') .. string.sub(b, r.tail, r.sec - 1) .. sec
end

-- put stores at key the pair value b with its record r replaced by rec
-- ('' removes it), keeping the key's expiry; a value left without records
-- is deleted.
local function put(key, b, r, rec)
  local v = string.sub(b, 1, r.at - 1) .. rec .. string.sub(b, r.stop)
  if #v == 1 then
    redis.call('DEL', key)
  else
    redis.call('SET', key, v, 'KEEPTTL')
  end
end

-- count stores attempts as record r's count of wrong passphrases, in
-- place: it never needs more room than the count had (a compact record
-- has MaxAttempts below 256, and a count that reaches it burns instead).
local function count(key, r, attempts)
  local v
  if r.wide then v = struct.pack('>I2', attempts) else v = string.char(attempts) end
  redis.call('SETRANGE', key, r.apos - 1, v)
end
`

// luaOutcome keeps the outcomes of Reveal and Burn calls, and checks
// deadlines.
const luaOutcome = `
-- recorded returns what an earlier run of this very call (the same
-- outcome key) answered, if it left an outcome: the retry of a call whose
-- reply was lost answers the same. A replay's outcome (kind in lower case,
-- then its expiry) counts only while now is before that expiry.
local function recorded(okey, now)
  local o = redis.call('GET', okey)
  if not o then return nil end
  if string.byte(o, 1) ~= 1 then
    error({err = 'BADVERSION stored record of an unknown format version'})
  end
  local kind, body = string.sub(o, 2, 2), 3
  if kind == 's' or kind == 'w' or kind == 'b' then
    if now >= struct.unpack('>i7', o, 3) then return nil end
    kind, body = string.upper(kind), 10
  end
  if kind == 'W' then return 1 end
  if kind == 'S' or kind == 'B' then return string.sub(o, body) end
  error({err = 'BADVERSION stored outcome of an unknown kind'})
end

-- keep records the outcome of kind ('S', 'W' or 'B') with its body at
-- okey for px milliseconds. till is '' for the outcome of one call, or a
-- replay's ExpiresAt in microseconds, kept in the record (kind in lower
-- case) for recorded to compare with a later call's now.
local function keep(okey, kind, body, px, till)
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

const luaB64 = `
local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
-- b64 is base64url without padding, as Go's base64.RawURLEncoding: the
-- names of the keys of format 1. It collects character codes and makes
-- one string at the end, some 2.5 times faster than building it piece by
-- piece with string.sub and concatenation.
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

// luaLegacy reads and changes the records of format 1 (legacy.go), as the
// scripts of format 1 did: each record is a key of its own, named after
// the id, and the partner record is found by the name it keeps. Needs
// luaB64 and luaOutcome.
const luaLegacy = `
-- v1 returns the record r, or stops the script if r is not of format 1.
local function v1(r)
  if string.byte(r, 1) ~= 1 then
    error({err = 'BADVERSION stored record of an unknown format version'})
  end
  return r
end

-- v1_present reports (1 or 0) whether the secret at skey exists and is
-- unexpired at now.
local function v1_present(skey, now)
  local h = redis.call('GETRANGE', skey, 0, 7)
  if #h == 0 then return 0 end
  v1(h)
  if #h == 8 and now < struct.unpack('>i7', h, 2) then return 1 end
  return 0
end

-- v1_live_header returns the header of the receipt at mkey if it exists
-- and is unexpired at now, else nil.
local function v1_live_header(mkey, now)
  local h = redis.call('GETRANGE', mkey, 0, 60)
  if #h == 0 then return nil end
  v1(h)
  if #h < 61 or now >= struct.unpack('>i7', h, 38) then return nil end
  return h
end

-- v1_stamp moves the receipt at mkey, whose header (or record) h is, to
-- state (2 viewed, 3 received, 4 burned), stamping Updated and, for
-- received and burned, the event's time. It returns the new first 30
-- bytes of the record (version to burned).
local function v1_stamp(mkey, h, now, state)
  local t = struct.pack('>i7', now)
  local rec, burn = string.sub(h, 17, 23), string.sub(h, 24, 30)
  if state == 3 then rec = t elseif state == 4 then burn = t end
  local head = string.sub(h, 1, 1) .. string.char(state) .. string.sub(h, 3, 9) .. t .. rec .. burn
  redis.call('SETRANGE', mkey, 0, head)
  return head
end

-- v1_reveal is Reveal of the secret of format 1 whose id, after the slot
-- pre ('<prefix>{slot}') names, has the raw rest given.
local function v1_reveal(pre, rest, okey, check, now, px, till, deadline)
  local done = recorded(okey, now)
  if done then return done end
  local skey = pre .. 's' .. b64(rest)
  local s = redis.call('GET', skey)
  if not s then return 0 end
  v1(s)
  if now >= struct.unpack('>i7', s, 2) then return 0 end
  local mkey = pre .. 'm' .. b64(string.sub(s, 9, 24))
  local h = v1_live_header(mkey, now)
  if late(deadline) then return 2 end
  local cl = string.byte(s, 29)
  if cl > 0 and string.sub(s, 30, 29 + cl) ~= check then
    local attempts = struct.unpack('>I2', s, 25) + 1
    local max = struct.unpack('>I2', s, 27)
    if attempts >= max or attempts >= 65535 then
      redis.call('DEL', skey)
      if h then v1_stamp(mkey, h, now, 4) end
    else
      redis.call('SETRANGE', skey, 24, struct.pack('>I2', attempts))
    end
    keep(okey, 'W', '', px, till)
    return 1
  end
  redis.call('DEL', skey)
  if h then v1_stamp(mkey, h, now, 3) end
  keep(okey, 'S', s, px, till)
  return s
end

-- v1_receipt returns the receipt of format 1 named as for v1_reveal and
-- whether its secret is present, {record, 0 or 1}; false if it has
-- expired at now, nil if it is missing; and its key.
local function v1_receipt(pre, rest, now)
  local mkey = pre .. 'm' .. b64(rest)
  local m = redis.call('GET', mkey)
  if not m then return nil, mkey end
  v1(m)
  if now >= struct.unpack('>i7', m, 38) then return false, mkey end
  return {m, v1_present(pre .. 's' .. b64(string.sub(m, 45, 60)), now)}, mkey
end

-- v1_view is View of a receipt of format 1.
local function v1_view(pre, rest, now)
  local a, mkey = v1_receipt(pre, rest, now)
  if not a then return 0 end
  if a[2] == 1 and string.byte(a[1], 2) == 1 then v1_stamp(mkey, a[1], now, 2) end
  return a
end

-- v1_burn is Burn of a receipt of format 1.
local function v1_burn(pre, rest, okey, now, px, till, deadline)
  local done = recorded(okey, now)
  if done then return done end
  local mkey = pre .. 'm' .. b64(rest)
  local m = redis.call('GET', mkey)
  if not m then return 0 end
  v1(m)
  if now >= struct.unpack('>i7', m, 38) then return 0 end
  local st = string.byte(m, 2)
  if st ~= 1 and st ~= 2 then return 0 end
  local skey = pre .. 's' .. b64(string.sub(m, 45, 60))
  if v1_present(skey, now) == 0 then return 0 end
  if late(deadline) then return 2 end
  redis.call('DEL', skey)
  local r = v1_stamp(mkey, m, now, 4) .. string.sub(m, 31)
  keep(okey, 'B', r, px, till)
  return r
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

// createScript stores a pair whose key exists already: a retry of a
// Create that was carried out (its record is there, byte for byte: sealed
// bytes are unique to one Create), or another pair in the same slot (the
// record is added after the ones that have not expired on Redis's clock,
// and the key's expiry extended to the new pair's if later). With an
// index key it also lists the receipt in its owner's index (one server:
// all in one step).
// KEYS: pair[, index]. ARGV: value (version, record), its PXAT, secret
// rest, receipt rest[, score, member tail, receipt PXAT, cap].
// Returns 0 when either id is stored (nothing written), else 1.
var createScript = goredis.NewScript(luaPair + luaIndex + `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PXAT', ARGV[2]) then
  local b = pairs_of(redis.call('GET', KEYS[1]))
  local rec = string.sub(ARGV[1], 2)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local kept, i = {'\2'}, 2
  while i <= #b do
    local r = record(b, i)
    if r.s == ARGV[3] or r.m == ARGV[4] then
      if string.sub(b, i, r.stop - 1) == rec then return 1 end
      return 0
    end
    if now < r.exp or live(r, now) then kept[#kept + 1] = string.sub(b, i, r.stop - 1) end
    i = r.stop
  end
  kept[#kept + 1] = rec
  redis.call('SET', KEYS[1], table.concat(kept), 'KEEPTTL')
  if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  end
end
if KEYS[2] then index_add(KEYS[2], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])) end
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
// arguments (go-redis re-sends a command whose reply it lost): the run
// that changes something records its outcome under the outcome key, a
// name unique to the call (or to its replay id) in the pair's slot, for px
// milliseconds, and a later run with that key answers the recorded
// outcome and changes nothing. A secret that needs a proof and is not
// given it is answered as missing, and nothing changes.
// KEYS: pair, outcome. ARGV: secret rest, check, proof, now, px, till
// (the replay's ExpiresAt, or empty), deadline (or empty).
// Returns 0 (missing or expired), 1 (wrong passphrase, counted; the
// secret burned at its limit), 2 (past the deadline, nothing changed) or
// the secret as it was: a pair value (or a record of format 1).
var revealScript = goredis.NewScript(luaPair + luaOutcome + luaB64 + luaLegacy + `
local key, okey, rest, check, proof = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local now, px, till, deadline = tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
-- again is what an earlier run of this call answered, if any: a replay's
-- outcome is looked for first, the outcome of one call only where a run
-- of the call may have left one.
local function again()
  if till == '' then return recorded(okey, now) end
end
if till ~= '' then
  local done = recorded(okey, now)
  if done then return done end
end
local b = redis.call('GET', key)
local r = b and find(pairs_of(b), 's', rest)
if not r then return v1_reveal(key, rest, okey, check, now, px, till, deadline) end
if not live(r, now) then
  if r.expires then put(key, b, r, changed(b, r, nil, now, true)) end
  return again() or 0
end
if #r.proof > 0 and r.proof ~= proof then return 0 end
if #r.check > 0 and r.check ~= check then
  local done = again()
  if done then return done end
  if late(deadline) then return 2 end
  local attempts = r.attempts + 1
  if attempts >= r.max or attempts >= 65535 then
    local st = nil
    if now < r.exp then st = 4 end
    put(key, b, r, changed(b, r, st, now, true))
  else
    count(key, r, attempts)
  end
  keep(okey, 'W', '', px, till)
  return 1
end
if late(deadline) then return 2 end
local st = nil
if now < r.exp then st = 3 end
put(key, b, r, changed(b, r, st, now, true))
local out = whole(b, r)
keep(okey, 'S', out, px, till)
return out
`)

// viewScript reads a receipt and whether its secret is present, and moves
// a new receipt whose secret is present to viewed.
// KEYS: pair. ARGV: receipt rest, now.
// Returns 0 (missing or expired) or {receipt as it was, present}: a pair
// value (or a record of format 1), and 1 or 0.
var viewScript = goredis.NewScript(luaPair + luaOutcome + luaB64 + luaLegacy + `
local key, rest, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local b = redis.call('GET', key)
local r = b and find(pairs_of(b), 'm', rest)
if not r then return v1_view(key, rest, now) end
if now >= r.exp then return 0 end
local p = live(r, now)
if p and r.state == 1 then
  put(key, b, r, changed(b, r, 2, now, false))
elseif r.expires and not p then
  put(key, b, r, changed(b, r, nil, now, true))
end
if p then return {whole(b, r), 1} end
return {whole(b, r), 0}
`)

// legacyReceiptScript reads a receipt of format 1 and whether its secret
// is present: Receipt, when the pair's key does not name the receipt.
// KEYS: pair. ARGV: receipt rest, now.
// Returns 0 (missing or expired) or {record, present}.
var legacyReceiptScript = goredis.NewScript(luaOutcome + luaB64 + luaLegacy + `
return v1_receipt(KEYS[1], ARGV[1], tonumber(ARGV[2])) or 0
`)

// burnScript destroys the live secret of a new or viewed receipt. Like
// revealScript, it records its outcome for a retry of the same call (or a
// call with the same replay id).
// KEYS: pair, outcome. ARGV: receipt rest, now, px, till, deadline.
// Returns 0 (nothing to burn), 2 (past the deadline, nothing changed) or
// the receipt as changed: a pair value (or a record of format 1).
var burnScript = goredis.NewScript(luaPair + luaOutcome + luaB64 + luaLegacy + `
local key, okey, rest = KEYS[1], KEYS[2], ARGV[1]
local now, px, till, deadline = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if till ~= '' then
  local done = recorded(okey, now)
  if done then return done end
end
local b = redis.call('GET', key)
local r = b and find(pairs_of(b), 'm', rest)
if not r then return v1_burn(key, rest, okey, now, px, till, deadline) end
if now >= r.exp or (r.state ~= 1 and r.state ~= 2) or not live(r, now) then
  if r.expires and not live(r, now) then put(key, b, r, changed(b, r, nil, now, true)) end
  if till == '' then return recorded(okey, now) or 0 end
  return 0
end
if late(deadline) then return 2 end
local rec = changed(b, r, 4, now, true)
put(key, b, r, rec)
local out = '\2' .. rec
keep(okey, 'B', out, px, till)
return out
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
// Returns {member, receipt, present, member, receipt, present, ...}, each
// receipt a pair value (or a record of format 1).
var recentScript = goredis.NewScript(luaPair + luaOutcome + luaB64 + luaLegacy + luaIndex + `
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
      local rest = string.sub(mem, 13, 28)
      local b = redis.call('GET', pre)
      local r = b and find(pairs_of(b), 'm', rest)
      if r then
        if now < r.exp and #out < 3 * limit then
          out[#out + 1] = mem
          out[#out + 1] = whole(b, r)
          out[#out + 1] = live(r, now) and 1 or 0
        end
      else
        local a = v1_receipt(pre, rest, now)
        if a == nil then
          gone = true
        elseif a and #out < 3 * limit then
          out[#out + 1] = mem
          out[#out + 1] = a[1]
          out[#out + 1] = a[2]
        end
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
	createScript, indexAddScript, revealScript, viewScript, legacyReceiptScript,
	burnScript, recentIndexScript, recentScript,
}
