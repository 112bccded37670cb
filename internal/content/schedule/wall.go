package schedule

import "time"

// wallInstant returns the first instant whose wall clock in loc is at or
// after the given date and time of day. For most wall times that is simply
// the instant showing it; the two exceptions are the wall times a
// daylight-saving change skips, which resolve to the change itself, and those
// it repeats, which resolve to their first occurrence. Out-of-range fields
// normalise as in time.Date, so day+1 or a time of day of 24h is fine.
func wallInstant(year int, month time.Month, day int, sinceMidnight time.Duration, loc *time.Location) time.Time {
	want := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Add(sinceMidnight)
	t := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), want.Second(), want.Nanosecond(), loc)

	// time.Date leaves unspecified which side of a transition it picks for a
	// skipped or repeated wall time, so settle both cases here.
	switch got := naive(t); {
	case got.After(want):
		// Skipped, and t lies after the gap: the change began t's zone.
		start, _ := t.ZoneBounds()
		return start
	case got.Before(want):
		// Skipped, and t lies before the gap: the change ends t's zone.
		_, end := t.ZoneBounds()
		return end
	}

	// Repeated wall times: an earlier instant shows the same wall clock when
	// the previous zone's offset was larger by more than the time since the
	// change.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, prevOffset := start.Add(-time.Nanosecond).Zone()
	_, offset := t.Zone()
	if prevOffset <= offset {
		return t
	}
	earlier := t.Add(-time.Duration(prevOffset-offset) * time.Second)
	if earlier.Before(start) && naive(earlier.In(loc)).Equal(want) {
		return earlier
	}
	return t
}

// naive returns t's wall clock as the same reading in UTC, so wall clocks
// compare with Before and After.
func naive(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// sinceMidnight returns how far t's wall clock is past its local midnight.
func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
