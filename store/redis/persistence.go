package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// ErrReplaysReveals is wrapped by [Persistence.Risk] when a Redis server
// persists by RDB snapshots without the append-only file, so that a crash
// or restart brings back secrets revealed since the last snapshot.
var ErrReplaysReveals = errors.New("redis: a restart can replay revealed secrets")

// Persistence is how the servers of a Redis deployment persist their data,
// as [CheckPersistence] found it: one entry for a single server (or the
// current primary of a Sentinel group), one per master of a Cluster.
//
// # What a Redis crash does to revealed secrets
//
// A reveal deletes the secret in Redis's memory. What a restarted Redis
// loads is whatever its persistence wrote, and that decides whether a
// secret revealed before a crash is gone, lost, or back:
//
//	Redis setup                             after a crash or restart          a secret revealed before it
//	--------------------------------------  --------------------------------  -------------------------------------------
//	no persistence                          empty: unread secrets are lost    never comes back
//	  (save "", appendonly no, no dump.rdb)
//	RDB snapshots only                      the last snapshot                 every secret revealed since that snapshot
//	  (save points, appendonly no: Redis 7's                                  (minutes of them) can be revealed AGAIN,
//	  built-in default and Debian's redis.conf)                               by anyone holding its link
//	AOF, appendfsync always                 every acknowledged write          never comes back: Redis fsyncs before
//	                                                                          it answers
//	AOF, appendfsync everysec (AOF's        a Redis process crash: every      a machine crash (power, kernel) can bring
//	  default)                              acknowledged write (unless the    back the reveals of its last second or two
//	                                        disk stalls: Redis then defers
//	                                        writes up to 2 s); a machine
//	                                        crash: all but the last ~1-2 s
//	AOF, appendfsync no                     as everysec, but a machine crash  the reveals of those seconds can come back
//	                                        loses what the kernel had not
//	                                        flushed (~30 s)
//	replicas with Sentinel or Cluster       the promoted replica's copy,      a reveal the old primary acknowledged just
//	  failover                              asynchronous: it may lack the     before failing is undone: the secret is
//	                                        primary's last writes             readable again (min-replicas-to-write
//	                                                                          bounds the lag; WAIT would close it for
//	                                                                          one reveal, and this store does not send it)
//
// AOF and RDB together (appendonly yes with save points) is an AOF setup:
// Redis loads the append-only file, not the snapshot. "No persistence"
// means no snapshot on disk at all: a dump.rdb left in Redis's directory
// (an old configuration, a manual SAVE or BGSAVE, a full resync to a
// replica that writes to disk) is loaded at the next start and brings back
// whatever it holds.
//
// Losing an unread secret is an availability failure: its creator shares
// it again. Revealing a secret twice breaks the promise the whole library
// exists for, so [CheckPersistence] tells a program which setup it has,
// and [Persistence.Risk] refuses RDB snapshots without AOF. Replication and
// the machine-crash windows of AOF everysec and no are not detected: they
// are choices to make knowingly (see package doc, Deployments).
type Persistence struct {
	// Servers has one entry per server asked, in no particular order.
	Servers []ServerPersistence
}

// ServerPersistence is the persistence of one Redis server.
type ServerPersistence struct {
	// Addr is the server's host:port as the client knows it ("" when
	// the client does not say, as for a Sentinel failover client).
	Addr string

	// AOF reports that the append-only file is on (INFO's aof_enabled).
	AOF bool
	// AppendFsync is the AOF's fsync policy: "always", "everysec" or
	// "no"; "" when CONFIG GET was refused.
	AppendFsync string

	// SavePoints is CONFIG GET save: "" when no snapshots are scheduled,
	// "3600 1 300 100 60 10000" for Redis 7's defaults. Meaningful only
	// when ConfigRefused is false.
	SavePoints string
	// ConfigRefused reports that the server refused CONFIG GET (a managed
	// Redis, an ACL without @admin, a renamed command). Its save points
	// are then unknown and snapshots are assumed to be on.
	ConfigRefused bool

	// SnapshotsTaken counts the RDB snapshots the server wrote since it
	// started (INFO's rdb_saves), scheduled or asked for by SAVE/BGSAVE.
	SnapshotsTaken int64
	// KeysLoaded counts the keys the server loaded from a snapshot when it
	// started (INFO's rdb_last_load_keys_loaded); with AOF off, a nonzero
	// count means a dump.rdb exists and will be loaded again.
	KeysLoaded int64
}

// ReplaysReveals reports whether a crash or restart of the server can
// bring back secrets revealed before it: the append-only file is off and
// the server takes RDB snapshots, or may (CONFIG refused), or has a
// snapshot on disk (it wrote or loaded one since it started).
func (p ServerPersistence) ReplaysReveals() bool {
	if p.AOF {
		return false
	}
	return p.ConfigRefused || p.SavePoints != "" || p.SnapshotsTaken > 0 || p.KeysLoaded > 0
}

// String describes the setup in a few words, for a log line, e.g.
// "aof everysec" or "rdb snapshots (save 3600 1), no aof".
func (p ServerPersistence) String() string {
	switch {
	case p.AOF && p.AppendFsync != "":
		return "aof " + p.AppendFsync
	case p.AOF:
		return "aof (appendfsync unknown: CONFIG refused)"
	case p.ConfigRefused:
		return "no aof; rdb snapshots unknown (CONFIG refused)"
	case p.SavePoints != "":
		return fmt.Sprintf("rdb snapshots (save %s), no aof", p.SavePoints)
	case p.SnapshotsTaken > 0 || p.KeysLoaded > 0:
		return "no aof, no save points, but an rdb snapshot on disk"
	}
	return "no persistence"
}

// ReplaysReveals reports whether any of the servers does (see
// [ServerPersistence.ReplaysReveals]).
func (p *Persistence) ReplaysReveals() bool {
	for _, s := range p.Servers {
		if s.ReplaysReveals() {
			return true
		}
	}
	return false
}

// Risk returns nil when no server can replay reveals after a crash, and
// otherwise an error wrapping [ErrReplaysReveals] that names the servers,
// their setup, and the safe choices: the append-only file on
// (appendonly yes, with appendfsync always to close the window of a
// machine crash too), or no persistence at all (save "" and no dump.rdb),
// where a crash loses unread secrets but never brings a revealed one back.
func (p *Persistence) Risk() error {
	var bad []string
	for _, s := range p.Servers {
		if s.ReplaysReveals() {
			name := s.Addr
			if name == "" {
				name = "the server"
			}
			bad = append(bad, name+": "+s.String())
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: Redis persists by RDB snapshots without the append-only file (%s), "+
		"so after a crash or restart every secret revealed since the last snapshot can be revealed again; "+
		"set appendonly yes (with appendfsync always, or everysec, which leaves about a second to a machine crash), "+
		"or turn persistence off (save \"\", appendonly no, no dump.rdb), where a crash loses unread secrets but never replays them",
		ErrReplaysReveals, strings.Join(bad, "; "))
}

// CheckPersistence asks every server that client writes to how it
// persists its data: the one server of a *goredis.Client (for a Sentinel
// failover client, the current primary), every master of a
// *goredis.ClusterClient, every shard of a *goredis.Ring.
//
// It reads INFO persistence, which servers that refuse CONFIG still
// answer, and then CONFIG GET save and appendfsync where allowed. It
// fails only when INFO fails. Replicas are not checked: configure them
// like their primary, since a failover makes one of them the primary.
func CheckPersistence(ctx context.Context, client goredis.UniversalClient) (*Persistence, error) {
	if client == nil {
		return nil, errors.New("redis: nil client")
	}
	var (
		mu  sync.Mutex
		out Persistence
	)
	each := func(ctx context.Context, c *goredis.Client) error {
		sp, err := serverPersistence(ctx, c, c.Options().Addr)
		if err != nil {
			return err
		}
		mu.Lock()
		out.Servers = append(out.Servers, sp)
		mu.Unlock()
		return nil
	}
	var err error
	switch c := client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, each)
	case *goredis.Ring:
		err = c.ForEachShard(ctx, each)
	default:
		var sp ServerPersistence
		sp, err = serverPersistence(ctx, client, "")
		if cl, ok := client.(*goredis.Client); ok && err == nil {
			sp.Addr = cl.Options().Addr
			if sp.Addr == "FailoverClient" { // go-redis's name for a Sentinel client's
				sp.Addr = ""
			}
		}
		out.Servers = append(out.Servers, sp)
	}
	if err != nil {
		return nil, err
	}
	if len(out.Servers) == 0 {
		return nil, errors.New("redis: persistence: no server to check")
	}
	return &out, nil
}

// serverPersistence asks one server.
func serverPersistence(ctx context.Context, c goredis.Cmdable, addr string) (ServerPersistence, error) {
	p := ServerPersistence{Addr: addr}
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		return p, fmt.Errorf("redis: INFO persistence: %w", err)
	}
	fields := parseInfo(info)
	aof, ok := fields["aof_enabled"]
	if !ok {
		return p, errors.New("redis: INFO persistence has no aof_enabled")
	}
	p.AOF = aof == "1"
	p.SnapshotsTaken, _ = strconv.ParseInt(fields["rdb_saves"], 10, 64)
	p.KeysLoaded, _ = strconv.ParseInt(fields["rdb_last_load_keys_loaded"], 10, 64)

	cfg, err := c.ConfigGet(ctx, "save").Result()
	if err == nil {
		var fsync map[string]string
		if fsync, err = c.ConfigGet(ctx, "appendfsync").Result(); err == nil {
			p.SavePoints = strings.TrimSpace(cfg["save"])
			p.AppendFsync = fsync["appendfsync"]
		}
	}
	if err != nil {
		var rerr goredis.Error
		if !errors.As(err, &rerr) { // a network error or a cancelled context
			return p, fmt.Errorf("redis: CONFIG GET: %w", err)
		}
		p.ConfigRefused = true // NOPERM, unknown command: assume the worst
	}
	return p, nil
}

// parseInfo reads the "name:value" lines of an INFO answer.
func parseInfo(info string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}
