package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"
)

// funcs are the template functions of every page.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"p":        func() string { return s.prefix },
		"ago":      s.ago,
		"sub":      func(a, b int) int { return a - b },
		"list":     func(xs ...any) []any { return xs },
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"duration": humanDuration,
		"status":   statusOf,
		"outcome":  outcomeOf,
		"pretty":   prettyJSON,
		"jsonview": jsonView,
		"sorted":   sortedHeaders,
		"join":     strings.Join,
		"query":    query,
		"runStep":  runStep,
		"percent":  func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
	}
}

// ago is a time relative to now in words: "12 s ago", "3 min ago",
// "in 5 min", "2 d ago".
func (s *Server) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := s.clock.Now().Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var v string
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		v = fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		v = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		v = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		v = fmt.Sprintf("%d d", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + v
	}
	return v + " ago"
}

// humanDuration is a duration in ms, s or min, to three figures at most.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
}

// badge is a status shown by word and colour: Class picks the colour in
// the stylesheet, Word says it.
type badge struct {
	Word, Class string
}

// statusOf names a delivery status, circuit state or endpoint state for
// a badge.
func statusOf(s string) badge {
	switch s {
	case "succeeded", "closed", "enabled", "healthy", "sent", "opened", "clicked":
		return badge{s, "ok"}
	case "retrying", "half-open", "failing", "pending", "running", "waiting", "scheduled", "digest":
		return badge{s, "warn"}
	case "timed_out":
		return badge{"timed out", "bad"}
	case "failed", "open", "disabled":
		w := s
		if s == "open" {
			w = "circuit open"
		}
		return badge{w, "bad"}
	default:
		return badge{s, "neutral"}
	}
}

// outcomeOf names an attempt's outcome for a badge: "success", or what
// failed ("http 503", "network error", "timeout").
func outcomeOf(o string) badge {
	if o == "success" || o == "" {
		return badge{cmp.Or(o, "done"), "ok"}
	}
	return badge{strings.ReplaceAll(o, "_", " "), "bad"}
}

// prettyJSON indents a JSON document; text that is not JSON is returned
// as it is.
func prettyJSON(raw any) string {
	b := docBytes(raw)
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// header is one name and value, for lists in a stable order.
type header struct{ Name, Value string }

func sortedHeaders(h map[string]string) []header {
	out := make([]header, 0, len(h))
	for k, v := range h {
		out = append(out, header{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// query is the query string of values with key set to val (an empty val
// removes it): the link to the next page keeps a list's filters.
func query(values url.Values, key, val string) string {
	q := url.Values{}
	for k, vs := range values {
		q[k] = append([]string(nil), vs...)
	}
	if val == "" {
		q.Del(key)
	} else {
		q.Set(key, val)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
