package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// openStore opens the configured store: SQLite in the data dir (locked to
// this process, on clk, which is then the database's clock), or
// PostgreSQL shared with other nodes, which also coordinates them; there
// it fills in cfg.NodeID when empty (see nodeID). lock is closed with the
// app.
func openStore(ctx context.Context, cfg *config.Config, clk clock.Clock) (store.Store, store.Coordinator, io.Closer, error) {
	if IsPostgres(cfg.Database) {
		if cfg.EncryptionKey == "" {
			return nil, nil, nil, errors.New("encryption_key (HOOKLINE_ENCRYPTION_KEY) is required with a PostgreSQL database: " +
				"every node must seal and open secrets with the same key")
		}
		box, err := openBox(*cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		var lock io.Closer = io.NopCloser(nil)
		if cfg.NodeID == "" {
			cfg.NodeID, lock = nodeID(cfg.DataDir)
		}
		st, err := postgres.Open(ctx, postgres.Config{DSN: cfg.Database, Box: box})
		if err != nil {
			lock.Close()
			return nil, nil, nil, err
		}
		return st, st, lock, nil
	}
	if cfg.Database != "" {
		return nil, nil, nil, fmt.Errorf("database: %q is not a postgres:// URL; leave it empty for SQLite in data_dir", cfg.Database)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	box, err := openBox(*cfg)
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(cfg.DataDir, "hookline.db"), Box: box, Clock: clk})
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	return st, nil, lock, nil
}

// storeLogAttrs says where the data lives, for the start log: the SQLite
// data dir, or the PostgreSQL database (without its password) and this
// node's id — the data dir holds no data then (at most the kept node id).
func storeLogAttrs(cfg config.Config) []any {
	if IsPostgres(cfg.Database) {
		return []any{"database", collection.RedactDSN(cfg.Database), "node_id", cfg.NodeID}
	}
	return []any{"data_dir", cfg.DataDir}
}

// clusterConfig is the engine's cluster mode on a shared store, nil on
// SQLite.
func clusterConfig(cfg config.Config, coord store.Coordinator) *engine.ClusterConfig {
	if coord == nil {
		return nil
	}
	return &engine.ClusterConfig{Coordinator: coord, NodeID: cfg.NodeID, Addr: cfg.Addr, Heartbeat: cfg.ClusterHeartbeat}
}

// nodeID names a PostgreSQL node whose node_id is not set: the name kept
// in data_dir/node_id, written on the first start as hostname-<random>.
// A node that starts again under its name knows the task leases under
// that name were its previous run's and resumes them at once, instead of
// waiting for the others to find the old name silent. The file stays
// locked while the node runs, so two processes never share the name: one
// that finds it locked (another node on the same data dir), or cannot
// keep it, is hostname-pid, unique among live processes.
func nodeID(dataDir string) (string, io.Closer) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	fallback := fmt.Sprintf("%s-%d", host, os.Getpid())
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fallback, io.NopCloser(nil)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "node_id"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fallback, io.NopCloser(nil)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fallback, io.NopCloser(nil)
	}
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if id := strings.TrimSpace(string(b)); err == nil && id != "" {
		return id, f
	}
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	id := host + "-" + hex.EncodeToString(rnd)
	if _, err := f.WriteAt([]byte(id+"\n"), 0); err != nil || f.Sync() != nil {
		f.Close()
		return fallback, io.NopCloser(nil)
	}
	return id, f
}

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s is in use by another hookline process: %w", dir, err)
	}
	return f, nil
}

func openBox(cfg config.Config) (*secretbox.Box, error) {
	var key []byte
	var err error
	if cfg.EncryptionKey != "" {
		key, err = secretbox.ParseKey(cfg.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("encryption_key: %w", err)
		}
	} else {
		key, err = secretbox.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "encryption.key"))
		if err != nil {
			return nil, err
		}
	}
	return secretbox.New(key)
}

// NoDatabaseError is a read-only command finding no SQLite database.
type NoDatabaseError struct {
	Path string
}

func (e *NoDatabaseError) Error() string { return "no database at " + e.Path }

// Migrate applies pending migrations of the configured database without
// starting a server, or with up=false only reports their status to w,
// writing nothing (a missing SQLite database is a *NoDatabaseError).
func Migrate(ctx context.Context, cfg config.Config, up bool, w io.Writer) error {
	if IsPostgres(cfg.Database) {
		cfg.EncryptionKey = "0000000000000000000000000000000000000000000000000000000000000000" // migrations touch no secrets
		box, _ := openBox(cfg)
		st, err := postgres.Open(ctx, postgres.Config{DSN: cfg.Database, Box: box, MaxConns: 2, SkipMigrate: true})
		if err != nil {
			return err
		}
		defer st.Close()
		if up {
			if err := st.Migrate(ctx); err != nil {
				return err
			}
		}
		status, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, m := range status {
			fmt.Fprintf(w, "%-8s %s\n", m.State, m.Source.Path)
		}
		return nil
	}
	path := filepath.Join(cfg.DataDir, "hookline.db")
	if up {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
	} else if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		// Status only reads: a typo in --data-dir must not make a database.
		return &NoDatabaseError{Path: path}
	}
	status, err := sqlite.MigrationStatus(ctx, path, up)
	if err != nil {
		return err
	}
	for _, m := range status {
		fmt.Fprintf(w, "%-8s %s\n", m.State, m.Source.Path)
	}
	return nil
}
