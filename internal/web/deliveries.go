package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
)

// statuses are the delivery statuses a list filters by.
var statuses = []string{store.StatusPending, store.StatusRetrying, store.StatusSucceeded, store.StatusFailed}

// deliveriesView is a list of deliveries with its filters: the
// operator's, and the portal's (by status and endpoint only).
type deliveriesView struct {
	listView[store.Task]
	Status, Endpoint, Since string
	Statuses                []string
	Filtered                bool
}

// deliveryList reads one page of deliveries filtered by the query string
// (status, endpoint unless fixed, since: last updated at or after).
func (s *Server) deliveryList(r *http.Request, sess *session, endpointID string) (listView[store.Task], error) {
	v, err := s.deliveryQuery(r, sess, endpointID)
	return v.listView, err
}

func (s *Server) deliveryQuery(r *http.Request, sess *session, endpointID string) (deliveriesView, error) {
	qv := r.URL.Query()
	v := deliveriesView{Endpoint: strings.TrimSpace(qv.Get("endpoint")), Since: qv.Get("since"), Statuses: statuses}
	if endpointID != "" {
		v.Endpoint = endpointID
	}
	cur, err := cursorOf(r, event.PrefixDelivery)
	if err != nil {
		return v, err
	}
	if v.Status, err = statusParam(qv); err != nil {
		return v, err
	}
	q := store.TaskQuery{Page: store.Page{Limit: pageSize + 1, Cursor: cur}, Status: v.Status, DestinationID: v.Endpoint}
	if q.UpdatedSince, err = formTime(v.Since); err != nil {
		return v, err
	}
	v.Filtered = v.Status != "" || v.Since != "" || (v.Endpoint != "" && endpointID == "")
	ts, err := s.cfg.Store.ListTasks(r.Context(), sess.TenantID, q)
	if err != nil {
		return v, err
	}
	v.Rows, v.Next = nextPage(r, ts, func(t store.Task) string { return t.ID })
	v.Query = qv
	return v, nil
}

// statusParam reads a delivery list's status filter: one of statuses, or
// none.
func statusParam(qv url.Values) (string, error) {
	st := qv.Get("status")
	if st != "" && !slices.Contains(statuses, st) {
		return "", badRequest("status must be pending, retrying, succeeded or failed.")
	}
	return st, nil
}

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := s.deliveryQuery(r, sess, "")
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "deliveries", view{Title: "Deliveries", Nav: "deliveries", Data: v})
}

type deliveryView struct {
	store.Task
	// AttemptLog is newest first.
	AttemptLog []store.Attempt
}

// delivery is a delivery's page: its state and every attempt, request and
// response, with credentials in headers redacted.
func (s *Server) delivery(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	t, err := s.cfg.Store.GetTask(r.Context(), sess.TenantID, id)
	if err != nil {
		return notFound(err, "delivery", id)
	}
	atts, err := s.attemptLog(r.Context(), t)
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "delivery", view{Title: "Delivery " + t.ID, Nav: "deliveries", Data: deliveryView{Task: t, AttemptLog: atts}})
}

// attemptLog is a delivery's attempts, newest first (the one a user
// comes for), with credentials in headers redacted.
func (s *Server) attemptLog(ctx context.Context, t store.Task) ([]store.Attempt, error) {
	atts, err := s.cfg.Store.ListAttempts(ctx, t.TenantID, t.ID)
	if err != nil {
		return nil, err
	}
	for i := range atts {
		// Redacted when written; again for attempts of earlier versions.
		atts[i].RequestHeaders = redact.Sent(atts[i].RequestHeaders)
		atts[i].ResponseHeaders = redact.Sent(atts[i].ResponseHeaders)
	}
	slices.Reverse(atts)
	return atts, nil
}

// deliveryRetry runs a delivery again now, as POST
// /v1/deliveries/{id}/retry does.
func (s *Server) deliveryRetry(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	if err := s.retry(r.Context(), sess.TenantID, id); err != nil {
		return err
	}
	s.redirect(w, r, "/deliveries/"+id+"?done=retried")
	return nil
}

// retry runs a delivery of a tenant again now; one the tenant does not
// have is not found.
func (s *Server) retry(ctx context.Context, tenantID, id string) error {
	ts, err := s.cfg.Engine.Retry(ctx, tenantID, []string{id})
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return notFound(store.ErrNotFound, "delivery", id)
	}
	return nil
}
