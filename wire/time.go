package wire

import (
	"errors"
	"time"
)

// TimeLayout is how the API writes times: RFC 3339 in UTC with exactly
// three fraction digits, "2026-11-27T00:26:17.260Z".
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time of the API's answers. It marshals as TimeLayout, in UTC
// and truncated to milliseconds, and unmarshals from any RFC 3339 time
// (or null, which leaves it zero). It embeds time.Time, so t.Format,
// t.IsZero and the rest work on it; t.Time is the time itself.
type Time struct{ time.Time }

// TimeOf returns t as a Time.
func TimeOf(t time.Time) Time { return Time{t} }

// TimePtr returns t as a *Time, nil for nil.
func TimePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// MarshalJSON writes t as TimeLayout in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, errors.New("client.Time.MarshalJSON: year outside of range [0,9999]")
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// MarshalText writes t as TimeLayout in UTC, for encodings other than
// JSON (YAML).
func (t Time) MarshalText() ([]byte, error) {
	b, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return b[1 : len(b)-1], nil
}
