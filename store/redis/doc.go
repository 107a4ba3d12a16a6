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
// one record, in one key:
//
//	<prefix>{<slot>}          the pair: the secret and its receipt
//	<prefix>{<slot>}r<token>  the outcome of one Reveal or Burn, briefly
//	<prefix>{<slot>}i<id>     the outcome of the calls with one replay id,
//	                          until the replay's ExpiresAt
//
// where slot is [onetime.ID.Slot] of the pair and id the rest of the
// replay id in base64url. The pair's key is named by its slot because the
// slot is all that the two ids share: a Reveal knows only the secret's id,
// a Receipt only the receipt's, and each finds the record by the rest of
// its id, which the record keeps. Slots are 32 bits wide, so with many
// pairs stored two of them now and then share a slot, and its key then
// holds both records. The braces are a Redis Cluster hash tag: every key
// of a pair lives in one hash slot, so that every operation on a pair is
// one command on one shard. An owner's recent list is a sorted set,
// <prefix>o:<hash of the owner>, in a slot of its own. Outcome keys are
// described under "Lost replies" below, replay keys under "Replays".
//
// A record is one compact binary string (see codec.go): the receipt's
// state and times, both ids, the receipt's sealed parts, then, while the
// secret lives, its attempts, passphrase check, proof verifier and sealed
// value. Nothing in Redis is plaintext: values, keys, passphrases and
// recipient addresses reach the store only sealed or hashed by the
// service.
//
// # Record format and its version
//
// The first byte of every value (a pair's key, an outcome) is its format
// version. A pair's key holds format 2, which codec.go describes: a
// version byte, then the records of the slot's pairs one after the other,
// each a fixed header (flags, state, the two ids, Created and the two
// expiries) followed by the parts that a pair has only when it needs them
// (the times of later events, owner and share domain, a passphrase check,
// a proof verifier, attempts beyond 255), the receipt's sealed payload and
// the secret's sealed value. Every script checks the version of each
// value it reads before it writes anything, and so does every Go decoder:
// a value of another version makes the method fail with an error (not
// ErrNotFound) and is left untouched, never read by the wrong layout. A
// later format raises the version, so that its scripts can tell old
// records from new ones without guessing, and a store running the older
// code refuses the newer records instead of misreading them. Format 1,
// two keys per pair, is still read (see "Upgrading from format 1").
// (The owner index's entries are 28-byte members of a sorted set, not
// records; a later layout of them would differ in length.)
//
// # Upgrading from format 1
//
// The code before format 2 kept a secret and its receipt in two keys,
// <prefix>{<slot>}s<id> and <prefix>{<slot>}m<id>, of format 1 (see
// legacy.go). This code reads and changes them still, so that a Redis
// that holds them keeps serving them once its servers run this code:
// when a pair's key does not name the id asked for, Reveal, Burn and View
// go on, in the same script, to the keys of format 1 and treat them as
// the code of format 1 did; Peek and Receipt read both in their one MGET
// (a receipt of format 1 then takes a script more, to read its secret's
// presence in one step); Recent lists both. Pairs of format 1 stay in
// format 1 until they expire; nothing converts them, and nothing writes
// new ones. TestUpgrade writes a store with the writer of format 1 and
// serves it.
//
// Upgrade every server of a deployment at once. A server still running
// the code of format 1 finds no pair that this code stores (it answers not
// found), and a Share repeated with its idempotency key on a new server,
// after its first try on an old one stored the pair in format 1, stores it
// again in format 2 (Create looks at the keys of format 1 only through
// the ids' pair key, which is the new one): this code then serves the
// pair of format 2 alone, but an old server would still serve the other.
//
// # Atomicity and round trips
//
// Reveal, Burn and View are each one Lua script run with EVALSHA (falling
// back to EVAL when the server answers NOSCRIPT, after a restart or
// failover), so each is atomic on the server and costs one round trip: no
// WATCH/MULTI retry loops, no GET-then-DEL. Create is one SET NX of the
// pair's key, which no other pair holds but once in a while (a script
// then adds the record to the key's others). Peek and Receipt, which
// change nothing, are one MGET, read by Go. Reveal and Burn without a
// Replay, when their script changed something, leave their outcome key
// (see "Lost replies") to be deleted after they return: the Store sends
// one DEL for the keys of all the calls answered within a couple of
// milliseconds, so the caller waits for one round trip and the server
// runs one DEL per batch, not per call. The life of a secret, Create then
// Reveal, thus costs Redis five commands, counted by INFO commandstats
// (SET; EVALSHA running GET, SET of the pair, SET of the outcome) and a
// share of a DEL: the format of two keys per pair cost some ten.
//
// Reveal reads the pair, compares the secret's expiry with now, its proof
// verifier and its passphrase check, and then either counts the wrong
// attempt (burning the secret when it reaches MaxAttempts) or drops the
// secret from the record and marks the receipt received, all in one step;
// Burn and Reveal of one secret therefore race cleanly. A reveal without
// the secret's proof changes nothing and answers ErrNotFound, whatever its
// passphrase check.
//
// Two methods take more than one round trip on a Cluster (and on any
// client other than a single-server *goredis.Client):
//
//   - Create of a receipt with an owner writes the owner's index first (one
//     script in the index's slot), then the pair (one SET NX in the pair's
//     slot). A pair is thus never stored unlisted. If the second step
//     fails or finds the pair exists, the index holds an entry with no
//     receipt behind it (ErrExists removes it again, best effort); readers
//     skip such entries, and they are dropped when the receipt they name
//     would have expired. On one server, Create is one script.
//   - Recent reads a page of the owner's index (one script), then all the
//     receipts it names in one pipeline of MGETs: goredis sends each shard
//     its part at once. It reads another page only when entries turned out dangling.
//     On one server, Recent is one script.
//
// # Pipelining, and what a call costs at each concurrency
//
// A Store sends each command straight to Redis on the client's connection
// pool. With Options.Pipeline, it sends a command through go-redis's
// automatic pipeliner when two or more others of the Store are in flight:
// the commands of concurrent callers then share one write and one read,
// while each method stays one command and the server sees the same
// scripts. Over HTTP, on the example server, the pipeliner cost more than
// it saved (see Options.Pipeline).
//
// Most of what a call costs both sides is not the work of the call but
// the round trip's system calls and the idle time around them, which only
// concurrency amortizes: that is why the CPU time per secret grows as
// concurrency falls. Per pair (Share then Reveal through the Service, 100
// bytes, BenchmarkConcurrency), at one caller the client made 15 system
// calls and Redis 7 (an epoll_wait, a read and a write per command); at 32
// callers, pipelined, 1.6 and 0.35. At one caller the client's write alone
// took a fifth of its CPU time (on loopback the sender's write runs the
// TCP path of both ends), its scheduler going idle and waking for each
// answer a seventh, and go-redis's health check of each pooled connection
// (a recvfrom per command) a sixteenth. The pipeliner cannot help a lone
// caller: it has no company to batch with, and its two hand-overs between
// goroutines cost 15-45% more client CPU per pair and up to 50 us more
// latency at the median, which the Store now spares it. A short flush delay in the pipeliner, to
// gather larger batches at 8 callers, cost more CPU than it saved.
//
// The figures of a run, and the commands to get them, are in
// BENCHMARKS.md at the root of the repository.
//
// # Expiry
//
// Redis expires the pairs itself: each pair's key gets PEXPIREAT at the
// later of its records' ExpiresAt (the receipt's, normally), rounded up to
// the millisecond so Redis never removes a record before it expires
// logically. The secret, which shares the key, expires at its own
// ExpiresAt all the same: the scripts and Go compare every record's
// ExpiresAt, in microseconds, with the now the service passes, so nothing
// expired is served however late Redis is, and the first script that
// meets an expired secret (a Reveal, Burn or View of the pair) drops its
// bytes from the record. Until one does, or the key expires, the sealed
// bytes of an expired secret that nobody asked for stay in Redis, served
// to no one: Redis before 7.4 has no expiry for part of a key. Updates
// rewrite a pair's value with SET KEEPTTL or patch it with SETRANGE, both
// of which keep the key's expiry, and only after finding the key in the
// same script; no update creates a key, so none can outlive its expiry.
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
// Commands that go through the pipeliner run under a context of
// go-redis's own, whatever ContextTimeoutEnabled says; the Store waits for
// each only until its caller's context is done, and returns then (the
// command may still run, and the scripts then change nothing).
//
// # What stays in Redis after a reveal
//
// The reveal's script drops the secret from its pair's record: the
// receipt stays, marked received, until the receipt's own expiry, and
// keeps of the secret only its id. The outcome key holds
// a copy of the sealed secret (never the plaintext: opening it needs the
// secret key, which Redis never sees): once the answer has arrived, the
// call hands the key over and returns; 2 milliseconds after the first
// key handed over, one DEL (on a Cluster, one pipeline of DELs) goes for
// every key handed over until then, best effort. The copy thus normally
// outlives the secret by 2 milliseconds and a round trip or two; Close
// sends the keys waiting at once and waits for these DELs. A key whose answer never
// arrived, whose DEL failed, or that came after Close (or while 8192 keys
// were waiting, Redis being unreachable) expires 60 seconds after the
// script ran. Burn's and a wrong passphrase's outcomes hold no sealed
// value and go the same way. Freed memory is not wiped. With persistence
// on, these keys are written like any other: an RDB snapshot taken while
// one lives holds it, and the append-only file keeps the pair's SET from
// Create and the outcome's SET, with the writes that follow them,
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
// and batched, the DELs cost little more than none would: a Reveal waits
// for one round trip, not two, and the answers that arrive meanwhile
// share the next DEL (TestOutcomeDeletedOffPath). The 2 milliseconds
// matter for a lone caller, whose every Reveal would otherwise be
// followed by a DEL of its own: a sixth of the client's CPU time per pair
// and one of every three commands Redis read.
//
// Evicting keys under memory pressure breaks nothing but loses secrets
// (their receipts report them orphaned); prefer maxmemory-policy
// noeviction, or volatile-ttl, for a Redis that holds secrets.
//
// # Limits
//
// MaxAttempts and Attempts are at most [onetime.MaxAttemptsLimit] (65535,
// 16 bits each in the record); a passphrase check and a proof verifier at
// most 255 bytes each; times
// within the years 830 to 3111; the prefix has no '{' or '}'. Create
// answers anything else with an error wrapping onetime.ErrInvalid.
//
// # Memory
//
// Each pair is one key with an expiry: Redis keeps some 140 bytes of
// bookkeeping for every key and expiry before any data (its dictionary
// entries, the key's name, the value's object, the hash tables' share,
// which is larger while they are small). The record of a 100-byte value
// shared without passphrase, owner or domain is 243 bytes, which with its
// string header fits jemalloc's 256-byte class: about 385 bytes of
// used_memory per secret with its receipt, where two keys took about 640.
// A passphrase check, a proof, an owner (with the sealed seed for the
// owner's list, and an entry in the owner's index) or a share domain add
// their bytes; an owner keeps at most [MaxIndexed] index entries. Once the
// secret is revealed or burned its record keeps the receipt alone, some
// 140 bytes. Outcome keys take nothing once their Reveal or Burn has
// answered and the DEL that follows has run; replay keys hold their
// outcome (a pair's record) until their replay's ExpiresAt.
// BenchmarkStoredBytes measures Redis's used_memory per secret, with
// 10,000 and 100,000 stored, anonymous and under one owner; BENCHMARKS.md
// has the figures of a run.
package redis
