package web

import (
	"context"
	"net/http"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/publicurl"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// SourceStore is what the sources pages read; a store.Store has it.
type SourceStore interface {
	GetSource(ctx context.Context, tenantID, id string) (store.Source, error)
	ListSources(ctx context.Context, tenantID string, p store.Page) ([]store.Source, error)
	ListRejections(ctx context.Context, tenantID, sourceID string, p store.Page) ([]store.Rejection, error)
}

// SourceDescriber shows a stored source as the API does, its secrets
// masked; *api.Server is one. The pages show how many secrets there are,
// never them.
type SourceDescriber interface {
	DescribeSource(src store.Source) (wire.Source, error)
}

// sourceEvents is how many of a source's newest events its page lists;
// the events page has the rest.
const sourceEvents = 20

// sourceRow is a source as the pages show it: the API's view with its
// absolute URL.
type sourceRow struct {
	wire.Source
	URL string
}

// sourceURL is the URL a provider posts to: the configured public URL,
// else the scheme and host the browser reached the dashboard at.
func (s *Server) sourceURL(r *http.Request, src wire.Source) string {
	if src.Path == "" {
		return "" // a postgres source receives no requests
	}
	return publicurl.Base(s.cfg.PublicURL, r) + src.Path
}

func (s *Server) describe(r *http.Request, src store.Source) (sourceRow, error) {
	out, err := s.cfg.Sources.DescribeSource(src)
	if err != nil {
		return sourceRow{}, err
	}
	return sourceRow{Source: out, URL: s.sourceURL(r, out)}, nil
}

func (s *Server) sources(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := idPage(r, event.PrefixSource, func(p store.Page) ([]store.Source, error) {
		return s.cfg.Store.ListSources(r.Context(), sess.TenantID, p)
	}, func(src store.Source) string { return src.ID }, func(src store.Source) (sourceRow, error) { return s.describe(r, src) })
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "sources", view{Title: "Sources", Nav: "sources", Data: v})
}

type sourceView struct {
	sourceRow
	Secrets    int
	Scheme     string
	Settings   []setting
	Events     []event.Event
	MoreEvents bool
	// Rejections is one page of the rejection log, newest first.
	Rejections listView[store.Rejection]
}

// source is a source's page: the URL to give the provider, how requests
// are verified, the newest events received and the rejection log.
func (s *Server) source(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	cur, err := cursorOf(r, event.PrefixReject)
	if err != nil {
		return err
	}
	src, err := s.cfg.Store.GetSource(r.Context(), sess.TenantID, id)
	if err != nil {
		return notFound(err, "source", id)
	}
	row, err := s.describe(r, src)
	if err != nil {
		return err
	}
	v := sourceView{sourceRow: row, Secrets: len(row.Verification.Secrets)}
	v.Verification.Secrets = nil // masked by the describer, and still not shown
	v.Scheme, v.Settings = schemes[row.Verification.Kind], verificationSettings(row.Verification)
	evs, err := s.cfg.Store.ListEvents(r.Context(), sess.TenantID,
		store.EventQuery{Page: store.Page{Limit: sourceEvents + 1}, Source: src.Name})
	if err != nil {
		return err
	}
	v.MoreEvents = len(evs) > sourceEvents
	v.Events = evs[:min(len(evs), sourceEvents)]
	rejs, err := s.cfg.Store.ListRejections(r.Context(), sess.TenantID, src.ID, store.Page{Limit: pageSize + 1, Cursor: cur})
	if err != nil {
		return err
	}
	for i := range rejs {
		// Redacted when written; again for rejections of earlier versions.
		rejs[i].Headers = redact.Received(rejs[i].Headers)
	}
	v.Rejections.Rows, v.Rejections.Next = nextPage(r, rejs, func(rj store.Rejection) string { return rj.ID })
	v.Rejections.Query = r.URL.Query()
	return s.page(w, r, sess, "source", view{Title: "Source " + src.Name, Nav: "sources", Data: v})
}

// schemes says in a sentence what each verification kind checks.
var schemes = map[string]string{
	"standard-webhooks": "Standard Webhooks: an HMAC-SHA256 (v1) or ed25519 (v1a) signature of webhook-id, webhook-timestamp and the body.",
	"github":            "GitHub: X-Hub-Signature-256, the HMAC-SHA256 of the body.",
	"stripe":            "Stripe: Stripe-Signature, the HMAC-SHA256 of the timestamp and the body.",
	"shopify":           "Shopify: X-Shopify-Hmac-Sha256, the HMAC-SHA256 of the body.",
	"slack":             "Slack: X-Slack-Signature, the HMAC-SHA256 of the timestamp and the body.",
	"hmac":              "An HMAC signature in a header of the provider's own, as configured below.",
	"basic":             "HTTP Basic authentication: a user and password.",
	"api-key":           "A key sent with each request.",
	"none":              "Nothing: every request is accepted. Anyone who knows the URL can send events.",
	"postgres":          "None needed: events are captured from the tables of a PostgreSQL database.",
}

// setting is one labelled value of a source's configuration.
type setting struct{ Name, Value string }

// verificationSettings are the settings of a scheme that are set, secrets
// left out.
func verificationSettings(v wire.Verification) []setting {
	var out []setting
	for _, st := range []setting{
		{"Header", v.Header}, {"Prefix", v.Prefix}, {"Algorithm", v.Algorithm}, {"Encoding", v.Encoding},
		{"Signed content", v.SignedContent}, {"Timestamp header", v.TimestampHeader}, {"Query parameter", v.QueryParam},
		{"Tolerance", v.Tolerance},
	} {
		if st.Value != "" {
			out = append(out, st)
		}
	}
	return out
}
