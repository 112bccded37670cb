// Command services is the set of small HTTP services the workflow examples
// call: an inventory, a payment provider, a CRM and a Slack-style incoming
// webhook. It keeps everything in memory, logs one line per request to
// standard output, and uses the standard library only.
//
//	go run ./examples/workflows/services -addr 127.0.0.1:9090
//
//	POST /reserve            {"order": "o-1", "items": [{"sku": "A", "qty": 2}]}
//	                         → 200 {"reservation": "res_1", "order": "o-1"}
//	POST /release            {"order": "o-1"} → 200, the order's reservation released
//	POST /charges            {"order": "o-1", "amount": 59.9}, Idempotency-Key required
//	                         → the first attempt of each key 503 (a simulated outage),
//	                           then 201 {"id": "ch_1", …}; the same key again gives the same
//	                           charge; an amount over 1000 is declined: 402 (not retried)
//	POST /crm/contacts       {"email": …, "name": …}, Authorization: Bearer <-crm-token>
//	                         → 201 {"id": "ct_1", "created": true} or 200 {"id": …, "created": false}
//	POST /slack/webhook      {"text": "…"} → 200 "ok", like Slack
//	GET  /healthz            → 200
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
)

type services struct {
	crmToken string

	mu           sync.Mutex
	reservations map[string]string         // by order
	charges      map[string]map[string]any // by Idempotency-Key
	attempts     map[string]int            // by Idempotency-Key
	contacts     map[string]map[string]any // by email
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "listen address")
	crmToken := flag.String("crm-token", "", "the bearer token /crm/contacts requires (empty: none)")
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetOutput(os.Stdout)

	s := &services{crmToken: *crmToken, reservations: map[string]string{}, charges: map[string]map[string]any{}, attempts: map[string]int{},
		contacts: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reserve", s.reserve)
	mux.HandleFunc("POST /release", s.release)
	mux.HandleFunc("POST /charges", s.charge)
	mux.HandleFunc("POST /crm/contacts", s.upsertContact)
	mux.HandleFunc("POST /slack/webhook", s.slack)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	log.Printf("services: listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

// readJSON decodes the request body into v, answering 400 when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		log.Printf("%s %s: bad body %q: %v → 400", r.Method, r.URL.Path, body, err)
		http.Error(w, "bad JSON body", http.StatusBadRequest)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *services) reserve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Order string `json:"order"`
		Items []struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		} `json:"items"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	id, ok := s.reservations[in.Order]
	if !ok {
		id = fmt.Sprintf("res_%d", len(s.reservations)+1)
		s.reservations[in.Order] = id
	}
	s.mu.Unlock()
	log.Printf("inventory: POST /reserve order %s: %d item(s) reserved as %s → 200", in.Order, len(in.Items), id)
	writeJSON(w, http.StatusOK, map[string]any{"reservation": id, "order": in.Order})
}

func (s *services) release(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Order string `json:"order"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	id, ok := s.reservations[in.Order]
	delete(s.reservations, in.Order)
	s.mu.Unlock()
	if !ok {
		log.Printf("inventory: POST /release order %s: no reservation → 404", in.Order)
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no reservation for this order"})
		return
	}
	log.Printf("inventory: POST /release order %s: reservation %s released → 200", in.Order, id)
	writeJSON(w, http.StatusOK, map[string]any{"released": id, "order": in.Order})
}

func (s *services) charge(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		log.Printf("payments: POST /charges without Idempotency-Key → 400")
		http.Error(w, "Idempotency-Key is required", http.StatusBadRequest)
		return
	}
	var in struct {
		Order  string  `json:"order"`
		Amount float64 `json:"amount"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Amount > 1000 {
		log.Printf("payments: POST /charges Idempotency-Key=%s: order %s, %.2f declined → 402", key, in.Order, in.Amount)
		writeJSON(w, http.StatusPaymentRequired, map[string]any{"error": "card declined"})
		return
	}
	s.mu.Lock()
	s.attempts[key]++
	attempt := s.attempts[key]
	prev, done := s.charges[key]
	var ch map[string]any
	if !done && attempt > 1 {
		ch = map[string]any{"id": fmt.Sprintf("ch_%d", len(s.charges)+1), "order": in.Order, "amount": in.Amount, "status": "succeeded"}
		s.charges[key] = ch
	}
	s.mu.Unlock()
	switch {
	case done:
		log.Printf("payments: POST /charges Idempotency-Key=%s attempt %d: replay of charge %s → 201", key, attempt, prev["id"])
		writeJSON(w, http.StatusCreated, prev)
	case attempt == 1:
		// The provider's first answer to every key is an outage, so the
		// workflow's retry shows.
		log.Printf("payments: POST /charges Idempotency-Key=%s attempt 1: simulated outage → 503", key)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "payments are temporarily unavailable"})
	default:
		log.Printf("payments: POST /charges Idempotency-Key=%s attempt %d: order %s charged %.2f as %s → 201", key, attempt, in.Order, in.Amount, ch["id"])
		writeJSON(w, http.StatusCreated, ch)
	}
}

func (s *services) upsertContact(w http.ResponseWriter, r *http.Request) {
	if s.crmToken != "" && r.Header.Get("Authorization") != "Bearer "+s.crmToken {
		log.Printf("crm: POST /crm/contacts with a wrong Authorization header → 401")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var in map[string]any
	if !readJSON(w, r, &in) {
		return
	}
	email, _ := in["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		log.Printf("crm: POST /crm/contacts without email → 422")
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "email is required"})
		return
	}
	s.mu.Lock()
	c, ok := s.contacts[email]
	if !ok {
		c = map[string]any{"id": fmt.Sprintf("ct_%d", len(s.contacts)+1)}
		s.contacts[email] = c
	}
	for k, v := range in {
		c[k] = v
	}
	c["email"] = email
	out := map[string]any{"created": !ok}
	for k, v := range c {
		out[k] = v
	}
	s.mu.Unlock()
	status, verb := http.StatusOK, "updated"
	if !ok {
		status, verb = http.StatusCreated, "created"
	}
	log.Printf("crm: POST /crm/contacts contact %s %s (%s) → %d", email, verb, c["id"], status)
	writeJSON(w, status, out)
}

func (s *services) slack(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Text == "" {
		log.Printf("slack: POST /slack/webhook without text → 400")
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	log.Printf("slack: POST /slack/webhook message: %s", in.Text)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok")
}
