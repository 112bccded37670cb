package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

// watchInterval is how often serve --watch looks at the config file.
const watchInterval = time.Second

// applyFunc applies a declaration to the running server's default tenant.
type applyFunc func(context.Context, client.Declaration) (client.ApplyResult, error)

// reloader keeps a running server's resources in line with its config
// file: it reads the file at start, and again on SIGHUP or when the file
// changes. A reload only applies the declaration — it never touches the
// listener, so no request is dropped — and a file with a mistake is
// refused as a whole, leaving the running state as it was.
type reloader struct {
	path   string
	lookup lookupFunc
	log    *slog.Logger
	apply  applyFunc

	// mu serialises reads and reloads; SIGHUP and the watcher may fire
	// together.
	mu sync.Mutex
	// running is the file and environment config the server started with;
	// server keys that differ from it need a restart.
	running config.Config
	// stamp is the file's stamp when it was last read.
	stamp fileStamp
}

// fileStamp tells whether a file changed since it was last read.
type fileStamp struct {
	modTime time.Time
	size    int64
	missing bool
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{modTime: fi.ModTime(), size: fi.Size()}
}

// load reads the config the server starts with and returns it with the
// file's raw bytes; later reloads compare their server keys with it.
func (r *reloader) load() (config.Config, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, raw, err := r.read()
	if err != nil {
		return cfg, raw, err
	}
	r.running = cfg
	return cfg, raw, nil
}

// read stamps and parses the file. The stamp is taken first, so a change
// made while reading is seen by the next look.
func (r *reloader) read() (config.Config, []byte, error) {
	r.stamp = stampOf(r.path)
	raw, err := os.ReadFile(r.path)
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Parse(r.path, raw, r.lookup)
	return cfg, raw, err
}

// applyDeclaration applies cfg's declaration and logs each change. A
// declaration the API refuses is returned as a *config.FileError at the
// line it is about.
func (r *reloader) applyDeclaration(ctx context.Context, cfg config.Config, raw []byte) error {
	res, err := r.apply(ctx, cfg.Declaration)
	if err != nil {
		return declarationError(r.path, raw, err)
	}
	for _, ch := range res.Changes {
		level := slog.LevelInfo
		if ch.Action == "unchanged" {
			level = slog.LevelDebug
		}
		attrs := []any{"kind", ch.Kind, "name", ch.Name, "action", ch.Action}
		if ch.ID != "" {
			attrs = append(attrs, "id", ch.ID)
		}
		if ch.Secret != "" {
			// Secrets stay out of logs; the API shows it on request.
			attrs = append(attrs, "secret", "generated; read it with GET /v1/endpoints/"+ch.ID+"/secret")
		}
		r.log.Log(ctx, level, "config resource "+ch.Action, attrs...)
	}
	return nil
}

// reload re-reads the file and applies it. Server keys that changed are
// logged as needing a restart and not applied. A file with a mistake is
// logged and refused; the error is returned too.
func (r *reloader) reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, raw, err := r.read()
	if err == nil {
		for _, key := range r.running.RestartKeys(cfg) {
			r.log.WarnContext(ctx, "config key changed; it needs a restart to take effect", "key", key, "path", r.path)
		}
		err = r.applyDeclaration(ctx, cfg, raw)
	}
	if err != nil {
		r.log.ErrorContext(ctx, "config reload refused; the running state is kept", "path", r.path, "error", err)
		return err
	}
	r.log.InfoContext(ctx, "config reloaded", "path", r.path)
	return nil
}

// changed tells whether the file's stamp differs from when it was last
// read.
func (r *reloader) changed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return stampOf(r.path) != r.stamp
}

// run reloads on each value of hup, and on each tick of watch (nil when
// not watching) after which the file changed, until ctx ends.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal, watch <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.log.InfoContext(ctx, "reloading config", "path", r.path, "reason", "SIGHUP")
		case <-watch:
			if !r.changed() {
				continue
			}
			r.log.InfoContext(ctx, "reloading config", "path", r.path, "reason", "file changed")
		}
		// A refused reload is logged; the next signal or change retries.
		_ = r.reload(ctx)
	}
}
