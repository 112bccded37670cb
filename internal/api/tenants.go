package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"time"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// KeyPrefix starts every API key Hookline generates.
const KeyPrefix = "hk_"

// GenerateKey returns a new random API key.
func GenerateKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// NewAPIKey builds the stored form of key.
func NewAPIKey(tenantID, name, key string, admin bool, now time.Time) store.APIKey {
	return store.APIKey{
		ID: event.NewID(event.PrefixAPIKey, now), TenantID: tenantID, Name: name,
		Prefix: key[:min(len(key), 10)], Hash: HashKey(key), Admin: admin, CreatedAt: now,
	}
}

var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, a *auth) error {
	if !a.admin {
		return errorf(http.StatusForbidden, codeForbidden, "creating tenants needs an admin API key")
	}
	var in wire.TenantCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	if !tenantName.MatchString(in.Name) {
		return invalid("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	now := s.now()
	t := store.Tenant{ID: event.NewID(event.PrefixTenant, now), Name: in.Name, CreatedAt: now}
	if err := s.store.CreateTenant(r.Context(), t); err != nil {
		return err
	}
	key := GenerateKey()
	k := NewAPIKey(t.ID, "default", key, false, now)
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	out := wire.TenantCreated{Tenant: tenantOut(t), APIKey: apiKeyOut(k)}
	out.APIKey.Key = key
	answer.JSON(w, http.StatusCreated, out)
	return nil
}

func tenantOut(t store.Tenant) wire.Tenant {
	return wire.Tenant{ID: t.ID, Name: t.Name, CreatedAt: wire.TimeOf(t.CreatedAt)}
}

func apiKeyOut(k store.APIKey) wire.APIKey {
	return wire.APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Admin: k.Admin, CreatedAt: wire.TimeOf(k.CreatedAt)}
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.APIKeyCreate
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	if len(in.Name) > 100 {
		return invalid("name", "must be at most 100 characters")
	}
	now := s.now()
	key := GenerateKey()
	k := NewAPIKey(a.tenantID, in.Name, key, false, now)
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	out := apiKeyOut(k)
	out.Key = key
	answer.JSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListAPIKeys, apiKeyOut)
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, a *auth) error {
	id := r.PathValue("id")
	if id == a.keyID {
		return errorf(http.StatusConflict, codeConflict, "an API key cannot delete itself; use another key of the tenant")
	}
	if err := s.store.DeleteAPIKey(r.Context(), a.tenantID, id); err != nil {
		return notFound(err, "API key", id)
	}
	// The cache is keyed by hash, which a deleted key's id does not give.
	s.keys.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
