package route

import (
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
)

// Wait is a run waiting for an event, or no longer waiting.
type Wait struct {
	// Kind and RunID make the target of the events it takes.
	Kind  string
	RunID string
	// Rev is the run's revision that started or ended the wait: a change
	// older than the one already applied for the run is ignored.
	Rev int
	// Pattern is the event type it waits for, exact or glob; empty: the
	// run stopped waiting.
	Pattern string
	// EventID is the event that started the run, never offered to it.
	EventID string
	// Key and Value make a keyed wait: it takes only the events whose
	// field at Key (a path, "event.data.order_id", see KeyPath) has the
	// text Value (expr.Text). Empty Key: every event of Pattern is
	// offered to the run.
	Key   string
	Value string
}

// Buffer says where an event goes that a keyed wait could take but no
// waiting run took: events of Pattern with a value at Key get a task for
// Target, which keeps them for the waits that start later.
type Buffer struct {
	Pattern string
	Key     string
	Target  engine.Target
}

// KeyPrefix starts every correlation key: the key is a path of object
// keys in the event's data.
const KeyPrefix = "event.data."

// KeyPath splits a correlation key ("event.data.order.id") into its path
// in the event's data ("order", "id"); ok is false for a key that is not
// KeyPrefix followed by dot-separated names.
func KeyPath(key string) (path []string, ok bool) {
	rest, found := strings.CutPrefix(key, KeyPrefix)
	if !found || rest == "" {
		return nil, false
	}
	path = strings.Split(rest, ".")
	for _, p := range path {
		if p == "" {
			return nil, false
		}
	}
	return path, true
}

// KeyValue is the text of a value at a correlation key, as a keyed wait
// compares it; ok is false for a missing value, null, an object or an
// array, which no keyed wait takes.
func KeyValue(v any) (string, bool) {
	switch v.(type) {
	case nil, map[string]any, []any:
		return "", false
	}
	s, err := expr.Text(v)
	return s, err == nil
}

// Key is e's value at a correlation key (KeyPath), as KeyValue writes it.
func (e *Event) Key(key string) (string, bool) {
	path, ok := KeyPath(key)
	if !ok {
		return "", false
	}
	v, ok := e.Field(path...)
	if !ok {
		return "", false
	}
	return KeyValue(v)
}

// maxEnded bounds the ended waits a tenant remembers between rebuilds.
const maxEnded = 4096

// waits are a tenant's waiting runs, by pattern. ended remembers the
// revisions of waits that ended since the last rebuild, so that a change
// that started the wait, applied late, does not bring it back.
type waits struct {
	runs      map[string]Wait
	byPattern map[string]*patternWaits
	ended     map[string]int
}

// patternWaits are the runs waiting for one pattern: those offered every
// event of it, and the keyed ones by key and value. Run ids are sorted.
type patternWaits struct {
	all   []string
	keyed map[string]map[string][]string
}

func newWaits(ws []Wait) *waits {
	s := &waits{runs: map[string]Wait{}, byPattern: map[string]*patternWaits{}, ended: map[string]int{}}
	for _, w := range ws {
		s.apply(w)
	}
	return s
}

// apply records a change unless a newer one for the run is known.
func (s *waits) apply(w Wait) {
	if cur, ok := s.runs[w.RunID]; ok && cur.Rev >= w.Rev {
		return
	}
	if rev, ok := s.ended[w.RunID]; ok && rev >= w.Rev {
		return
	}
	s.remove(w.RunID)
	if w.Pattern == "" {
		if len(s.ended) >= maxEnded {
			clear(s.ended)
		}
		s.ended[w.RunID] = w.Rev
		return
	}
	delete(s.ended, w.RunID)
	s.runs[w.RunID] = w
	pw := s.byPattern[w.Pattern]
	if pw == nil {
		pw = &patternWaits{}
		s.byPattern[w.Pattern] = pw
	}
	if w.Key == "" {
		pw.all = insertSorted(pw.all, w.RunID)
		return
	}
	if pw.keyed == nil {
		pw.keyed = map[string]map[string][]string{}
	}
	vals := pw.keyed[w.Key]
	if vals == nil {
		vals = map[string][]string{}
		pw.keyed[w.Key] = vals
	}
	vals[w.Value] = insertSorted(vals[w.Value], w.RunID)
}

func insertSorted(ids []string, id string) []string {
	i, _ := slices.BinarySearch(ids, id)
	return slices.Insert(ids, i, id)
}

func (s *waits) remove(runID string) {
	w, ok := s.runs[runID]
	if !ok {
		return
	}
	delete(s.runs, runID)
	pw := s.byPattern[w.Pattern]
	if w.Key == "" {
		pw.all = deleteSorted(pw.all, runID)
	} else {
		vals := pw.keyed[w.Key]
		if ids := deleteSorted(vals[w.Value], runID); len(ids) > 0 {
			vals[w.Value] = ids
		} else {
			delete(vals, w.Value)
			if len(vals) == 0 {
				delete(pw.keyed, w.Key)
			}
		}
	}
	if len(pw.all) == 0 && len(pw.keyed) == 0 {
		delete(s.byPattern, w.Pattern)
	}
}

func deleteSorted(ids []string, id string) []string {
	if i, found := slices.BinarySearch(ids, id); found {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}

// match appends the targets of the runs waiting for events like e, by
// run id, except a run e started: every run of a matching pattern that
// waits without a key, and those of a keyed wait whose value e has. taken
// says, by key, whether a keyed run took e.
func (s *waits) match(e *Event, out []engine.Target) (_ []engine.Target, taken map[string]bool) {
	from := len(out)
	add := func(ids []string) {
		for _, id := range ids {
			if w := s.runs[id]; w.EventID != e.ID {
				out = append(out, engine.Target{Kind: w.Kind, DestinationID: id})
			}
		}
	}
	for p, pw := range s.byPattern {
		if !event.Match(p, e.Type) {
			continue
		}
		add(pw.all)
		for key, vals := range pw.keyed {
			v, ok := e.Key(key)
			if !ok || len(vals[v]) == 0 {
				continue
			}
			add(vals[v])
			if taken == nil {
				taken = map[string]bool{}
			}
			taken[key] = true
		}
	}
	if len(out)-from > 1 {
		slices.SortFunc(out[from:], func(a, b engine.Target) int { return strings.Compare(a.DestinationID, b.DestinationID) })
	}
	return out, taken
}

// buffered appends the targets of the buffers that keep e: its type
// matches, it has a value at the key, and no keyed run took it.
func buffered(bs []Buffer, e *Event, taken map[string]bool, out []engine.Target) []engine.Target {
	for _, b := range bs {
		if taken[b.Key] || !event.Match(b.Pattern, e.Type) {
			continue
		}
		if _, ok := e.Key(b.Key); ok {
			out = append(out, b.Target)
		}
	}
	return out
}

// len is how many runs wait.
func (s *waits) len() int { return len(s.runs) }
