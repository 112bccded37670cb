package collection

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clip"
)

// A version orders the changes of one record. It is stored as
// "kind:value": "n:" a decimal number, "t:" an RFC 3339 time, or "e:" the
// event's time and id (the default, when the spec names no version).
type version struct {
	kind string // "n", "t", "e"
	num  *big.Rat
	at   time.Time
	id   string // event id, for "e"
	text string // the canonical value after "kind:"
}

var kindNames = map[string]string{"n": "number", "t": "time", "e": "event time"}

// versionOf turns a value read from an event into a version.
func versionOf(v any) (version, error) {
	switch x := v.(type) {
	case nil:
		return version{}, fmt.Errorf("is missing")
	case json.Number:
		return numberVersion(x.String())
	case float64:
		return numberVersion(strconv.FormatFloat(x, 'f', -1, 64))
	case int:
		return numberVersion(strconv.Itoa(x))
	case int64:
		return numberVersion(strconv.FormatInt(x, 10))
	case string:
		if x == "" {
			return version{}, fmt.Errorf("is empty")
		}
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return numberVersion(x)
		}
		if t, err := parseTime(x); err == nil {
			return version{kind: "t", at: t, text: t.UTC().Format(time.RFC3339Nano)}, nil
		}
		return version{}, fmt.Errorf("%q is neither a number nor an RFC 3339 time", clip.To(x, 64))
	case time.Time:
		return version{kind: "t", at: x, text: x.UTC().Format(time.RFC3339Nano)}, nil
	}
	return version{}, fmt.Errorf("is a %s; a version must be a number or an RFC 3339 time", jsonKind(v))
}

func numberVersion(s string) (version, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return version{}, fmt.Errorf("%q is not a number", s)
	}
	return version{kind: "n", num: r, text: s}, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time")
}

// eventVersion is the default version: when the event happened, ties
// broken by its id.
func eventVersion(at time.Time, id string) version {
	return version{kind: "e", at: at, id: id, text: at.UTC().Format(time.RFC3339Nano) + "|" + id}
}

// String is the stored form.
func (v version) String() string { return v.kind + ":" + v.text }

// parseVersion reads a stored version.
func parseVersion(s string) (version, error) {
	kind, text, ok := strings.Cut(s, ":")
	if !ok {
		return version{}, fmt.Errorf("stored version %q is malformed", s)
	}
	switch kind {
	case "n":
		return numberVersion(text)
	case "t":
		t, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return version{}, fmt.Errorf("stored version %q is malformed", s)
		}
		return version{kind: "t", at: t, text: text}, nil
	case "e":
		ts, id, _ := strings.Cut(text, "|")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return version{}, fmt.Errorf("stored version %q is malformed", s)
		}
		return eventVersion(t, id), nil
	}
	return version{}, fmt.Errorf("stored version %q is malformed", s)
}

// compare orders two versions of the same kind; a different kind is an
// error (a version that changed type cannot be ordered).
func (v version) compare(w version) (int, error) {
	if v.kind != w.kind {
		return 0, fmt.Errorf("version type changed: the record's version is a %s, this one a %s", kindNames[w.kind], kindNames[v.kind])
	}
	switch v.kind {
	case "n":
		return v.num.Cmp(w.num), nil
	case "t":
		return v.at.Compare(w.at), nil
	}
	if c := v.at.Compare(w.at); c != 0 {
		return c, nil
	}
	return strings.Compare(v.id, w.id), nil
}

// Display is the version as people read it.
func Display(stored string) string {
	_, text, _ := strings.Cut(stored, ":")
	return text
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	}
	return fmt.Sprintf("%T", v)
}
