// Package redis is an [onetime.Store] in Redis, on
// github.com/redis/go-redis/v9: the way past one machine. Many stateless
// application servers share one Redis deployment, from a single server to
// a Redis Cluster, and every secret is still revealed at most once.
//
//	client := goredis.NewClient(&goredis.Options{Addr: "localhost:6379"})
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
//	<prefix>{<slot>}s<id>    the secret
//	<prefix>{<slot>}m<id>    its receipt
//
// where slot is [onetime.ID.Slot] of the pair and id the rest of the
// record's id in base64url. The braces are a Redis Cluster hash tag: both
// records of a pair live in one hash slot, so that every operation on a
// pair is one script on one shard. An owner's recent list is a sorted set,
// <prefix>o:<hash of the owner>, in a slot of its own.
//
// Each record is one compact binary string (see codec.go): a fixed header
// that the scripts read and patch in place, then the opaque sealed bytes.
// Nothing in Redis is plaintext: values, keys, passphrases and recipient
// addresses reach the store only sealed or hashed by the service.
//
// # Atomicity and round trips
//
// Each method is one Lua script run with EVALSHA (falling back to EVAL
// when the server answers NOSCRIPT, after a restart or failover), so it is
// atomic on the server and costs one round trip: no WATCH/MULTI retry
// loops, no GET-then-DEL. Reveal reads the secret, compares its expiry
// with now and its passphrase check, and then either counts the wrong
// attempt (burning the secret when it reaches MaxAttempts) or deletes the
// secret and marks the receipt received, all in one step; Burn and Reveal
// of one secret therefore race cleanly. The scripts reach the partner
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
// stays one command: the server sees the same scripts, the client makes
// far fewer system calls. Under load on 2 cores, Share went from 40-46%
// of redis-benchmark's SET rate to 52-79%, depending on how busy the
// machine was (BENCHMARKS.md has one run); a lone caller may wait longer.
// BenchmarkShare, BenchmarkReveal and BenchmarkSerialPair run both modes.
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
// CROSSSLOT, ...) come back wrapped as "redis: <operation>: ...", with no
// key, id or value in their text; check them with [errors.Is] against
// context errors and the onetime sentinels. A closed Store returns
// [ErrClosed].
//
// goredis retries a command after a network error or a read timeout
// (Options.MaxRetries, default 3), so a script whose reply was lost may
// run again. Create is idempotent across such a retry (it recognises its
// own records). A retried Reveal finds the secret consumed by the first
// run, which nobody saw, and the caller gets ErrNotFound; a retried Burn
// likewise reports ErrNotFound for the secret it burned; a lost
// wrong-passphrase reply may count the attempt twice. Exactly-once holds
// in every case. Set MaxRetries to -1 to see the network errors instead.
//
// Evicting keys under memory pressure breaks nothing but loses secrets
// (their receipts report them orphaned); prefer maxmemory-policy
// noeviction, or volatile-ttl, for a Redis that holds secrets.
//
// # Limits
//
// MaxAttempts and Attempts are at most [MaxAttemptsLimit]; a passphrase
// check at most 255 bytes; times within the years 830 to 3111; the prefix
// has no '{' or '}'. Create answers anything else with an error wrapping
// onetime.ErrInvalid.
//
// # Memory
//
// Redis used_memory per 100-byte secret shared through the Service, with
// its receipt (BenchmarkStoredMemory, Redis 7.0, default settings):
//
//	stored    anonymous   one owner (index entry included)
//	1,000     727 B       970 B
//	100,000   645 B       744 B
//
// Each secret is two keys, each with an expiry: about 150 bytes of Redis
// bookkeeping apiece before any data, plus the hash tables' share, which
// is larger while they are small. A receipt with an owner also holds the
// owner and the sealed key for the owner's list (84 bytes), and its index
// entry costs about 150 bytes; an owner keeps at most [MaxIndexed].
package redis
