package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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
// this process), or PostgreSQL shared with other nodes, which also
// coordinates them. lock is closed with the app.
func openStore(ctx context.Context, cfg config.Config) (store.Store, engine.Coordinator, io.Closer, error) {
	if IsPostgres(cfg.Database) {
		if cfg.EncryptionKey == "" {
			return nil, nil, nil, errors.New("encryption_key (HOOKLINE_ENCRYPTION_KEY) is required with a PostgreSQL database: " +
				"every node must seal and open secrets with the same key")
		}
		box, err := openBox(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		st, err := postgres.Open(ctx, postgres.Config{DSN: cfg.Database, Box: box})
		if err != nil {
			return nil, nil, nil, err
		}
		return st, st, io.NopCloser(nil), nil
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
	box, err := openBox(cfg)
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(cfg.DataDir, "hookline.db"), Box: box})
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	return st, nil, lock, nil
}

// storeLogAttrs says where the data lives, for the start log: the SQLite
// data dir, or the PostgreSQL database (without its password) and this
// node's id — the data dir is not used then.
func storeLogAttrs(cfg config.Config) []any {
	if IsPostgres(cfg.Database) {
		return []any{"database", collection.RedactDSN(cfg.Database), "node_id", cfg.NodeID}
	}
	return []any{"data_dir", cfg.DataDir}
}

// clusterConfig is the engine's cluster mode on a shared store, nil on
// SQLite.
func clusterConfig(cfg config.Config, coord engine.Coordinator) *engine.ClusterConfig {
	if coord == nil {
		return nil
	}
	return &engine.ClusterConfig{Coordinator: coord, NodeID: cfg.NodeID, Addr: cfg.Addr, Heartbeat: cfg.ClusterHeartbeat}
}

// defaultNodeID is hostname-pid, unique among live processes.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
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
