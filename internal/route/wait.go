package route

import (
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
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
}

// maxEnded bounds the ended waits a tenant remembers between rebuilds.
const maxEnded = 4096

// waits are a tenant's waiting runs, by pattern. ended remembers the
// revisions of waits that ended since the last rebuild, so that a change
// that started the wait, applied late, does not bring it back.
type waits struct {
	runs      map[string]Wait
	byPattern map[string][]string // pattern → run ids, sorted
	ended     map[string]int
}

func newWaits(ws []Wait) *waits {
	s := &waits{runs: map[string]Wait{}, byPattern: map[string][]string{}, ended: map[string]int{}}
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
	ids := s.byPattern[w.Pattern]
	i, _ := slices.BinarySearch(ids, w.RunID)
	s.byPattern[w.Pattern] = slices.Insert(ids, i, w.RunID)
}

func (s *waits) remove(runID string) {
	w, ok := s.runs[runID]
	if !ok {
		return
	}
	delete(s.runs, runID)
	ids := s.byPattern[w.Pattern]
	if i, found := slices.BinarySearch(ids, runID); found {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(s.byPattern, w.Pattern)
	} else {
		s.byPattern[w.Pattern] = ids
	}
}

// match appends the targets of the runs waiting for events like e, by
// run id, except a run e started.
func (s *waits) match(e *event.Event, out []engine.Target) []engine.Target {
	from := len(out)
	patterns := 0
	for p, ids := range s.byPattern {
		if !event.Match(p, e.Type) {
			continue
		}
		patterns++
		for _, id := range ids {
			if w := s.runs[id]; w.EventID != e.ID {
				out = append(out, engine.Target{Kind: w.Kind, DestinationID: id})
			}
		}
	}
	if patterns > 1 {
		slices.SortFunc(out[from:], func(a, b engine.Target) int { return strings.Compare(a.DestinationID, b.DestinationID) })
	}
	return out
}

// len is how many runs wait.
func (s *waits) len() int { return len(s.runs) }
