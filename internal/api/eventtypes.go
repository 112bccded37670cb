package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request, a *auth, in wire.EventType) error {
	if err := event.ValidateType(in.Name); err != nil {
		return fieldErr("name", err)
	}
	if len(in.Description) > 1000 {
		return invalid("description", "must be at most 1000 characters")
	}
	var schema []byte
	if len(in.Schema) > 0 && !bytes.Equal(in.Schema, []byte("null")) {
		if len(in.Schema) > apply.MaxSchemaSize {
			return invalid("schema", "must be at most %d bytes", apply.MaxSchemaSize)
		}
		if _, err := apply.CompileSchema(in.Schema); err != nil {
			return fieldErr("schema", err)
		}
		schema = in.Schema
	}
	et := store.EventType{TenantID: a.tenantID, Name: in.Name, Description: in.Description, Schema: schema, CreatedAt: s.now()}
	if err := s.store.CreateEventType(r.Context(), et); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "event type %q already exists", in.Name)
		}
		return err
	}
	s.eventTypes.Delete(a.tenantID + "\x00" + et.Name)
	answer.JSON(w, http.StatusCreated, eventTypeOut(et))
	return nil
}

func eventTypeOut(et store.EventType) wire.EventType {
	return wire.EventType{Name: et.Name, Description: et.Description, Schema: et.Schema, CreatedAt: wire.TimeOf(et.CreatedAt)}
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListEventTypes, eventTypeOut)
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request, a *auth) error {
	return getOne(w, r, a, "event type", "name", s.store.GetEventType, eventTypeOut)
}

// schemaCache keeps the 1,000 compiled schemas used last, keyed by their
// source bytes.
type schemaCache struct {
	c *lru.Cache[string, *jsonschema.Schema]
}

func newSchemaCache() *schemaCache { return &schemaCache{c: lru.New[string, *jsonschema.Schema](1000)} }

func (c *schemaCache) get(raw []byte) (*jsonschema.Schema, error) {
	if sch, ok := c.c.Get(string(raw)); ok {
		return sch, nil
	}
	sch, err := apply.CompileSchema(raw)
	if err != nil {
		return nil, err
	}
	c.c.Add(string(raw), sch)
	return sch, nil
}

var printer = message.NewPrinter(language.English)

// validateData checks data against the event type's schema, if it has one.
func (s *Server) validateData(ctx context.Context, tenantID, typ string, data json.RawMessage) error {
	et, err := s.eventType(ctx, tenantID, typ)
	if err != nil {
		return err
	}
	if et == nil || len(et.Schema) == 0 {
		return nil
	}
	sch, err := s.schemas.get(et.Schema)
	if err != nil {
		return fmt.Errorf("compile schema of %s: %w", typ, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return invalid("data", "not valid JSON: %v", err)
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	path, msg := firstViolation(ve)
	where := path
	if where == "" {
		where = "the top level"
	}
	return errorf(http.StatusUnprocessableEntity, codeSchema, "data does not match the schema of %s at %s: %s",
		typ, where, msg).with("path", path).with("event_type", typ)
}

// eventType returns a tenant's event type, or nil when it is not
// registered, through the cache.
func (s *Server) eventType(ctx context.Context, tenantID, name string) (*store.EventType, error) {
	k := tenantID + "\x00" + name
	now := s.clock.Now()
	if et, ok := s.eventTypes.Get(k, now); ok {
		return et, nil
	}
	et, err := s.store.GetEventType(ctx, tenantID, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.eventTypes.Put(k, nil, now)
		return nil, nil
	case err != nil:
		return nil, err
	}
	s.eventTypes.Put(k, &et, now)
	return &et, nil
}

// firstViolation returns the JSON Pointer of the violation that sorts first
// among the leaves of ve. The validator walks objects in Go map order, so
// taking its first cause would name a different field from one request to
// the next; sorting makes the answer stable.
func firstViolation(ve *jsonschema.ValidationError) (path, message string) {
	best, msg := "", ""
	found := false
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			p := pointer(e.InstanceLocation)
			if !found || p < best {
				best, msg, found = p, e.ErrorKind.LocalizedString(printer), true
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return best, msg
}

// pointer renders a location as an RFC 6901 JSON Pointer ("" is the root).
func pointer(loc []string) string {
	var b strings.Builder
	for _, seg := range loc {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(seg))
	}
	return b.String()
}
