package schedule

import (
	"errors"
	"fmt"
	"time"
)

// QuietHours is a daily period, in the recipient's local time, during which
// nothing is sent. Start and End are "HH:MM" on a 24-hour clock; Start later
// than End wraps midnight ("22:00" to "07:00"). The period includes Start and
// excludes End. The zero value means no quiet hours.
type QuietHours struct {
	Start string `json:"start,omitempty" yaml:"start,omitempty"`
	End   string `json:"end,omitempty" yaml:"end,omitempty"`
}

// IsZero reports whether q has no quiet hours.
func (q QuietHours) IsZero() bool { return q.Start == "" && q.End == "" }

// Validate checks that q is either empty or has a distinct, well-formed Start
// and End.
func (q QuietHours) Validate() error {
	_, _, err := q.parse()
	return err
}

// parse returns Start and End as offsets from local midnight. It returns
// zeros and no error for the zero QuietHours.
func (q QuietHours) parse() (start, end time.Duration, err error) {
	if q.IsZero() {
		return 0, 0, nil
	}
	if q.Start == "" || q.End == "" {
		return 0, 0, errors.New("quiet hours: start and end must both be set or both empty")
	}
	if start, err = parseClock(q.Start); err != nil {
		return 0, 0, fmt.Errorf("quiet hours start: %w", err)
	}
	if end, err = parseClock(q.End); err != nil {
		return 0, 0, fmt.Errorf("quiet hours end: %w", err)
	}
	if start == end {
		return 0, 0, fmt.Errorf("quiet hours: start and end are both %s; leave both empty for no quiet hours", q.Start)
	}
	return start, end, nil
}

// parseClock parses "HH:MM" (00:00 to 23:59) into an offset from midnight.
func parseClock(s string) (time.Duration, error) {
	digit := func(b byte) (int, bool) { return int(b - '0'), b >= '0' && b <= '9' }
	if len(s) == 5 && s[2] == ':' {
		h1, ok1 := digit(s[0])
		h2, ok2 := digit(s[1])
		m1, ok3 := digit(s[3])
		m2, ok4 := digit(s[4])
		h, m := h1*10+h2, m1*10+m2
		if ok1 && ok2 && ok3 && ok4 && h < 24 && m < 60 {
			return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
		}
	}
	return 0, fmt.Errorf("%q is not a time of day as HH:MM (00:00 to 23:59)", s)
}

// NextAllowed returns the first instant at or after t that is outside quiet
// hours in loc: t itself when t is outside them, else the end of the quiet
// period containing t. Each day's quiet period runs from that day's Start to
// the next End on the wall clock, so a 07:00 End is 07:00 local even on the
// morning clocks change. An empty or invalid q has no quiet hours; validate q
// when it is configured.
func NextAllowed(t time.Time, loc *time.Location, q QuietHours) time.Time {
	start, end, err := q.parse()
	if err != nil || q.IsZero() {
		return t
	}
	loc = orUTC(loc)
	// One pass suffices unless a daylight-saving gap swallows the time
	// between one period's end and the next period's start.
	for range 3 {
		periodEnd, quiet := quietPeriodEnd(t, loc, start, end)
		if !quiet {
			break
		}
		t = periodEnd
	}
	return t
}

// quietPeriodEnd reports whether t is inside a quiet period and, if so, when
// that period ends.
func quietPeriodEnd(t time.Time, loc *time.Location, start, end time.Duration) (time.Time, bool) {
	year, month, day := t.In(loc).Date()
	endDay := 0
	if end < start {
		endDay = 1
	}
	// The period containing t began on t's local date or the day before;
	// the day after covers a change that repeats the hours around midnight.
	for d := day - 1; d <= day+1; d++ {
		from := wallInstant(year, month, d, start, loc)
		until := wallInstant(year, month, d+endDay, end, loc)
		if !t.Before(from) && t.Before(until) {
			return until, true
		}
	}
	return time.Time{}, false
}
