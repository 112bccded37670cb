package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// CaptureInstallTimeout bounds connecting to a watched database and
// installing triggers there.
const CaptureInstallTimeout = 20 * time.Second

// SourceRules mirrors ingest.Rules with the API's wire types; both
// share their JSON shape, which is how a source's rules are converted
// between them.
type SourceRules struct {
	EventType    wire.SourceEventType `json:"event_type,omitzero"`
	Dedup        wire.SourceDedup     `json:"dedup,omitzero"`
	Response     wire.SourceResponse  `json:"response,omitzero"`
	Handshake    wire.SourceHandshake `json:"handshake,omitzero"`
	KeepHeaders  []string             `json:"keep_headers,omitempty"`
	MaxBodyBytes int64                `json:"max_body_bytes,omitempty"`
	Postgres     *ingest.PostgresRule `json:"postgres,omitempty"`
}

// UpdateSource applies the set groups of in to src and validates the
// result. A mistake is a *field.Error.
func UpdateSource(src *store.Source, in wire.SourceCreate) (*ingest.Source, error) {
	if in.Name != "" {
		src.Name = in.Name
	}
	if err := ingest.ValidName(src.Name); err != nil {
		return nil, &field.Error{Path: "name", Err: err}
	}
	if in.Description != nil {
		if len(*in.Description) > MaxDescription {
			return nil, field.Errorf("description", "must be at most %d characters", MaxDescription)
		}
		src.Description = *in.Description
	}
	if in.Verification != nil {
		if in.Postgres != nil {
			return nil, field.Errorf("verification", "a postgres source takes no verification; its DSN goes in postgres.dsn")
		}
		b, err := json.Marshal(in.Verification)
		if err != nil {
			return nil, err
		}
		src.Verification = b
	}
	if in.Postgres != nil {
		dsn := in.Postgres.DSN
		if dsn == "" {
			// PATCH without a DSN keeps the stored one.
			dsn = ingest.StoredDSN(src.Verification)
		}
		if dsn == "" {
			return nil, field.Errorf("postgres.dsn", `is required, e.g. "postgres://user:pass@db:5432/shop"`)
		}
		src.Verification = ingest.PostgresVerification(dsn)
	}
	var rules SourceRules
	if err := json.Unmarshal(src.Config, &rules); err != nil {
		return nil, fmt.Errorf("decode source rules: %w", err)
	}
	setIf(&rules.EventType, in.EventType)
	setIf(&rules.Dedup, in.Dedup)
	setIf(&rules.Response, in.Response)
	setIf(&rules.Handshake, in.Handshake)
	setIf(&rules.KeepHeaders, in.KeepHeaders)
	setIf(&rules.MaxBodyBytes, in.MaxBodyBytes)
	if in.Postgres != nil {
		rules.Postgres = &ingest.PostgresRule{Tables: in.Postgres.Tables, Schema: in.Postgres.Schema}
	} else if in.Verification != nil {
		rules.Postgres = nil
	}
	setIf(&src.Enabled, in.Enabled)
	b, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	src.Config = b
	parsed, err := ingest.Parse(*src)
	if err != nil {
		if _, ok := field.Of(err); !ok {
			return nil, field.Errorf("source", "%v", err)
		}
		return nil, err
	}
	return parsed, nil
}

// InstallCapture puts the change capture triggers of an enabled postgres
// source in place. It runs before the source is saved, so changes made
// once it is saved are captured, and a missing table or a refused
// connection is a mistake in the source (a *field.Error at "postgres").
func (a *Applier) InstallCapture(ctx context.Context, src *ingest.Source) error {
	cfg, ok := src.Capture()
	if !ok || !src.Enabled {
		return nil
	}
	cfg.Dial = a.cfg.Dial
	ctx, cancel := context.WithTimeout(ctx, CaptureInstallTimeout)
	defer cancel()
	if err := capture.Install(ctx, cfg); err != nil {
		return field.Errorf("postgres", "cannot install change capture: %v", err)
	}
	return nil
}

// planSource compares a declared source with the stored one of its name.
// Source names are global (/in/{name}): one another tenant has is a
// *ConflictError.
func (a *Applier) planSource(ctx context.Context, tenantID string, decl wire.SourceCreate, now time.Time) (step, error) {
	st := a.cfg.Store
	s := step{change: wire.Change{Kind: "source", Name: decl.Name}}
	cur, err := st.SourceByName(ctx, decl.Name)
	exists := err == nil
	switch {
	case exists && cur.TenantID != tenantID:
		return s, conflictf("source name %q is taken", decl.Name)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return s, err
	}
	if decl.Verification == nil && decl.Postgres == nil {
		return s, field.Errorf("verification", `is required, e.g. {"kind": "github", "secrets": ["…"]} or {"kind": "none"}`)
	}
	src := store.Source{ID: event.NewID(event.PrefixSource, now), TenantID: tenantID, Config: []byte("{}"), CreatedAt: now, UpdatedAt: now}
	if exists {
		src = cur
	}
	// A declaration states the whole source: groups it leaves out are reset.
	src.Config = []byte("{}")
	src.Description = ""
	src.Enabled = true
	parsed, err := UpdateSource(&src, decl)
	if err != nil {
		return s, err
	}
	s.change.ID = src.ID
	act := actionOf(exists, cur.Description == src.Description && cur.Enabled == src.Enabled && jsonEqual(cur.Config, src.Config) &&
		jsonEqual(cur.Verification, src.Verification))
	s.decide(act, func(ctx context.Context) error { return st.CreateSource(ctx, src) },
		func(ctx context.Context) error { return st.UpdateSource(ctx, src) })
	switch act {
	case Unchanged:
		return s, nil
	case Updated:
		src.UpdatedAt = now
	}
	s.install = func(ctx context.Context) error { return a.InstallCapture(ctx, parsed) }
	return s, nil
}
