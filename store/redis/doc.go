// Package redis is a [onetime.Store] in Redis, on
// github.com/redis/go-redis/v9: the way past one machine. Many stateless
// application servers share one Redis deployment, from a single server to
// a Redis Cluster, and every secret is still revealed at most once.
//
//	client := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	store, err := redis.New(client, nil)
//	...
//	svc, err := onetime.New(store, serverSecret, nil)
//
// # Deployments
//
// [New] takes any goredis.UniversalClient, unchanged:
//
//   - goredis.NewClient: one server.
//   - goredis.NewFailoverClient: a Sentinel-managed primary; the client
//     follows failovers (errors such as READONLY during one come back
//     wrapped, and the next call goes to the new primary).
//   - goredis.NewClusterClient: a Redis Cluster.
//
// Redis 7.0 or later is required (PEXPIRETIME; SET PXAT; Lua scripts
// that read the server's TIME before writing).
//
// Replication is asynchronous in Redis. Exactly-once holds among all the
// callers of one primary, but a failover (Sentinel or Cluster) can lose
// the writes the old primary acknowledged last, and a secret revealed or
// burned in that moment is then back on the new primary, readable again.
// Deployments that cannot accept this window should run Redis with
// appendfsync always and min-replicas-to-write, or have the caller issue
// WAIT after a reveal; TestSentinel measures the window.
//
// # Keys
//
// Every key starts with [Options.Prefix] ("onetime:" by default), so
// several applications can share one Redis. A secret and its receipt are
//
//	<prefix>{<slot>}s<id>     the secret
//	<prefix>{<slot>}m<id>     its receipt
//	<prefix>{<slot>}r<token>  the outcome of one Reveal or Burn, briefly
//	<prefix>{<slot>}i<id>     the outcome of the calls with one replay id,
//	                          until the replay's ExpiresAt
//
// where slot is [onetime.ID.Slot] of the pair and id the rest of the
// record's id (or replay id) in base64url. The braces are a Redis Cluster
// hash tag: both records of a pair live in one hash slot, so that every
// operation on a pair is one script on one shard. An owner's recent list
// is a sorted set, <prefix>o:<hash of the owner>, in a slot of its own.
// Outcome keys are described under "Lost replies" below, replay keys
// under "Replays".
//
// Each record is one compact binary string (see codec.go): a fixed header
// that the scripts read and patch in place, then the opaque sealed bytes.
// Nothing in Redis is plaintext: values, keys, passphrases and recipient
// addresses reach the store only sealed or hashed by the service.
//
// # Record format and its version
//
// The first byte of every record (secret, receipt, outcome) is its format
// version, 1 for the format codec.go describes: a secret is a 29-byte
// header (version, expiry, its receipt's id, Attempts and MaxAttempts in
// 16 bits each, the check's length) followed by the check, the share
// domain and the sealed value; a receipt is a 61-byte header (version,
// state, six times, its secret's id, flags) followed by the owner, the
// share domain and the sealed parts. Every script checks the version of
// each record it reads before it writes anything, and so does Peek and
// every Go decoder: a record of another version makes the method fail
// with an error (not ErrNotFound) and is left untouched, never read by the
// wrong layout. A later format raises the version, so that its scripts can
// tell old records from new ones without guessing, and a store running the
// older code refuses the newer records instead of misreading them. (The
// owner index's entries are 28-byte members of a sorted set, not records;
// a later layout of them would differ in length.)
//
// # Atomicity and round trips
//
// Each method is one Lua script run with EVALSHA (falling back to EVAL
// when the server answers NOSCRIPT, after a restart or failover), so it is
// atomic on the server and costs one round trip: no WATCH/MULTI retry
// loops, no GET-then-DEL. Peek, which changes nothing, is one GETRANGE of
// the secret's header instead. Reveal and Burn without a Replay, when
// their script changed something, leave their outcome key (see "Lost
// replies") to be deleted after they return: a goroutine of the Store
// sends one DEL for the keys of all the calls answered meanwhile, so the
// caller waits for one round trip and the server runs one DEL per batch,
// not per call.
//
// Reveal reads the secret, compares its expiry with now and its
// passphrase check, and then either counts the wrong attempt (burning the
// secret when it reaches MaxAttempts) or deletes the secret and marks the
// receipt received, all in one step; Burn and Reveal of one secret
// therefore race cleanly. The scripts reach the partner
// record of a pair by a name they read from the record, not from KEYS;
// Redis 7 permits such undeclared keys of the script's own hash slot.
//
// Two methods take more than one round trip on a Cluster (and on any
// client other than a single-server *goredis.Client):
//
//   - Create of a receipt with an owner writes the owner's index first (one
//     script in the index's slot), then the pair (one script in the pair's
//     slot). A pair is thus never stored unlisted. If the second step
//     fails or finds the pair exists, the index holds an entry with no
//     receipt behind it (ErrExists removes it again, best effort); readers
//     skip such entries, and they are dropped when the receipt they name
//     would have expired. On one server, Create is one script.
//   - Recent reads a page of the owner's index (one script), then all the
//     receipts it names in one pipeline: goredis sends each shard its part
//     at once. It reads another page only when entries turned out dangling.
//     On one server, Recent is one script.
//
// With Options.AutoPipeline, the commands of concurrent callers share
// network round trips (go-redis's automatic pipeliner) while each method
// stays one command: the server sees the same scripts, and the client
// makes far fewer system calls under load; a lone caller may wait longer.
// BenchmarkModes measures both modes against redis-benchmark's SET; the
// figures of a run are in BENCHMARKS.md at the root of the repository.
//
// # Expiry
//
// Redis expires the records itself: each key gets PEXPIREAT at its
// record's ExpiresAt (the secret's, and the receipt's later one), rounded
// up to the millisecond so Redis never removes a record before it expires
// logically. The scripts also compare every record's ExpiresAt, in
// microseconds, with the now the service passes, so nothing expired is
// served however late Redis is. Updates patch records with SETRANGE, which
// keeps a key's expiry, and only after finding the key in the same
// script; no update creates a key, so none can outlive its expiry.
//
// Physical expiry runs on Redis's clock and logical expiry on the
// service's, so the two should roughly agree: a record created with an
// ExpiresAt already past on Redis's clock is gone at once.
//
// Sweep has nothing to do and returns 0.
//
// # Owner index
//
// Recent lists an owner's receipts from a sorted set scored by Created in
// microseconds; receipts created in the same microsecond are ordered by a
// sequence number kept in the entry, last created first. The index is
// bounded: it keeps the newest [MaxIndexed] entries. Entries whose
// receipts Redis has expired are dropped as Create and Recent meet them
// (judged by Redis's own clock, the one that runs PEXPIREAT, never by the
// caller's now); the index key itself expires with its latest receipt.
//
// # Errors and the client
//
// Errors from Redis and the client (connection refused, timeouts, READONLY,
// CROSSSLOT, ...) come back as "redis: <cause>", with no operation name
// (the Service adds "onetime: <operation>: ") and no key, id or value in
// their text; check them with [errors.Is] against context errors and the
// onetime sentinels, which the methods return as they are. A timeout reads
// "redis: context deadline exceeded" (with the client's
// ContextTimeoutEnabled; without it, go-redis waits for its own
// ReadTimeout: see "Deadlines"). A Reveal or Burn that Redis ran after its
// deadline answers "redis: Redis ran the call after its deadline and
// changed nothing: context deadline exceeded". A closed Store returns
// [onetime.ErrClosed] from every method; Close again is a no-op. An id
// that is not well formed ([onetime.ID.Valid]) names no record: it is
// never looked for (ErrNotFound), and Create refuses a pair with one, or
// whose ids do not name each other in one slot, with an error that wraps
// [onetime.ErrInvalid].
//
// # Lost replies
//
// goredis retries a command after a network error or a read timeout
// (Options.MaxRetries, default 3), so a script whose reply was lost (the
// connection dropped after Redis ran it) may run again. Every method is
// safe across such a retry:
//
//   - Create recognises its own records, byte for byte, and succeeds.
//   - Receipt, Peek and Recent change nothing. A repeated View may report
//     viewed where its first run, whose answer was lost, saw new.
//   - Reveal and Burn pass an outcome key of their own, <prefix>{slot}r
//     and a random 128-bit token, fresh for each call. The first run that
//     changes something records its answer there, in the pair's slot and
//     in the same atomic step: the sealed secret it revealed, the
//     wrong-passphrase answer, or the burned receipt. A repeat of the same
//     call finds that outcome and answers it again, changing nothing: a
//     reveal whose first reply was lost still returns the value (not
//     ErrNotFound), a wrong passphrase is counted once, a burn answers the
//     burned receipt. A run with another key (another call) finds the
//     secret gone, as it must. A call given a Replay uses its replay key
//     instead (see "Replays"), which serves its retries the same way.
//
// When goredis gives up on a network error (its retries spent, or
// MaxRetries -1), Reveal and Burn try again themselves, with the same
// outcome key, up to 3 times with pauses of 10, 20 and 40 ms, honouring
// ctx. If every try fails, the call returns that error, never ErrNotFound:
// the secret may have been consumed and its value is then lost, which the
// caller cannot tell from an outage. Through a proxy that dropped 10% of
// the script replies, 300 reveals and 300 burns answered 0 false "not
// found" and every value (TestLostReplies); without outcome keys, 17 to 30
// reveals and 27 to 31 burns answered ErrNotFound for what they had just
// consumed, and wrong passphrases were counted twice.
//
// # Replays
//
// A Reveal or Burn given an [onetime.Replay] records its outcome not under
// a random token but under its replay id, <prefix>{slot}i<rest of the
// replay id> (the replay id shares the pair's slot, so on a Cluster the
// script still touches one slot), in the same script and the same atomic
// step as its change. The record keeps the replay's ExpiresAt beside the
// outcome (see codec.go), and Redis keeps the key for ExpiresAt minus the
// call's now, rounded up to the millisecond (at least one): measured on
// Redis's clock from when the script runs, so no clock skew shortens or
// stretches it by more than the call's own latency. The Store does not
// delete it once answered. The script looks for that outcome first: a
// later call with the same replay id, while its now is before ExpiresAt,
// gets the sealed secret, the wrong-passphrase answer or the burned
// receipt as recorded, changes nothing and counts no attempt, whatever
// its check and whether or not the secret still exists. Calls that answer
// ErrNotFound record nothing. A replay id that is malformed, in another
// slot than the call's id, or without a storable ExpiresAt is refused with
// an error wrapping [onetime.ErrInvalid], before anything runs.
//
// The replay key also covers a lost reply: the retries of a call, by
// go-redis and by the Store, find its outcome there as they would under a
// random token.
//
// # Deadlines
//
// If ctx has a deadline, Reveal and Burn pass it to their script (unix
// microseconds), which compares it with Redis's own clock (TIME) just
// before it changes anything. A script that runs after the deadline (Redis
// stalled, by a fork, swapping or SIGSTOP, and ran the command from its
// socket buffer once it resumed; the command crossed a congested network)
// changes nothing (no reveal, no counted attempt, no burn, no recorded
// outcome) and the call answers an error wrapping
// [context.DeadlineExceeded]: a secret is consumed only while its answer
// can still reach the caller. A recorded outcome (see "Replays" and "Lost
// replies") is still answered, which changes nothing. TestStalledRedis
// stops Redis in the middle of reveals and a burn and resumes it after
// their deadline: every secret is still there.
//
// The check compares the application server's deadline with Redis's clock,
// so the two clocks must agree: keep the application servers and Redis on
// NTP. A Redis clock that runs behind lets a script consume up to that
// much after the deadline; one that runs ahead refuses calls that much
// early.
//
// The check bounds what Redis does, not how long the caller waits. go-redis
// waits for an answer until its own ReadTimeout (5 s by default), whatever
// the context's deadline, unless the client is made with
// ContextTimeoutEnabled: set it (goredis.Options, ClusterOptions and
// FailoverOptions all have it) so that a call returns at its deadline:
//
//	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
//
// With Options.AutoPipeline, go-redis runs the batched commands under a
// context of its own, whatever ContextTimeoutEnabled says; the Store
// waits for each only until its caller's context is done, and returns
// then (the command may still run, and the scripts then change nothing).
//
// # What stays in Redis after a reveal
//
// The secret's key is deleted by the reveal's script. Its receipt stays,
// marked received, until the receipt's own expiry. The outcome key holds
// a copy of the sealed secret (never the plaintext: opening it needs the
// secret key, which Redis never sees): once the answer has arrived, the
// call hands the key to the Store's deleting goroutine and returns; that
// goroutine sends one DEL (on a Cluster, one pipeline of DELs) for every
// key handed over since its last, best effort. The copy thus normally
// outlives the secret by one or two round trips (the DEL then in flight,
// and its own); Close waits for these DELs. A key whose answer never
// arrived, whose DEL failed, or that came after Close (or while 8192 keys
// were waiting, Redis being unreachable) expires 60 seconds after the
// script ran. Burn's and a wrong passphrase's outcomes hold no sealed
// value and go the same way. Freed memory is not wiped. With persistence
// on, these keys are written like any other: an RDB snapshot taken while
// one lives holds it, and the append-only file keeps the secret's SET
// from Create and the outcome's SET, with the DELs that follow them,
// until the next AOF rewrite (BGREWRITEAOF, or automatic by
// auto-aof-rewrite-percentage); replicas receive them too.
//
// A reveal given a Replay keeps its outcome, the same sealed copy, under
// its replay key until the replay's ExpiresAt (the Service's
// ReplayWindow, 60 seconds by default), for a caller who asks again:
// nothing deletes it before. Its name is a keyed hash, like every id, and
// opening the copy still needs the secret key.
//
// Deleting each outcome at once, rather than giving it a short expiry and
// no DEL, keeps the copy's life independent of the client's timeouts: an
// expiry must outlast every retry of the call (go-redis retries after a
// read timeout, 5 s by default, up to MaxRetries times, and the Store
// tries 3 times more), so it cannot be short. Sent off the caller's path
// and batched, the DELs cost little more than none would: with 32
// goroutines a Reveal waits for one round trip, not two, and the answers
// that arrive meanwhile share the next DEL (TestOutcomeDeletedOffPath).
//
// Evicting keys under memory pressure breaks nothing but loses secrets
// (their receipts report them orphaned); prefer maxmemory-policy
// noeviction, or volatile-ttl, for a Redis that holds secrets.
//
// # Limits
//
// MaxAttempts and Attempts are at most [onetime.MaxAttemptsLimit] (65535,
// 16 bits each in the record); a passphrase check at most 255 bytes; times
// within the years 830 to 3111; the prefix has no '{' or '}'. Create
// answers anything else with an error wrapping onetime.ErrInvalid.
//
// # Memory
//
// Each secret is two keys, each with an expiry: Redis keeps bookkeeping
// for every key and expiry before any data, plus the hash tables' share,
// which is larger while they are small. The secret record of a 100-byte
// value is 146 bytes, which with its string header fits jemalloc's
// 160-byte class. A receipt with an owner also holds the owner and the
// sealed seed for the owner's list, and has an entry in the owner's index;
// an owner keeps at most [MaxIndexed]. Outcome keys take nothing once
// their Reveal or Burn has answered and the DEL that follows has run;
// replay keys hold their outcome (a secret's or a receipt's record) until
// their replay's ExpiresAt.
// BenchmarkStoredBytes measures Redis's used_memory per secret, with 1,000
// and 100,000 stored, anonymous and under one owner; BENCHMARKS.md has the
// figures of a run.
package redis
