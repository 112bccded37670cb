package schedule

import (
	"fmt"
	"strings"
	"time"
)

// dailyPrefix starts a window spec that sends once a day at a local time.
const dailyPrefix = "daily@"

// window is a parsed digest window spec: either every length since local
// midnight, or daily at a time of day.
type window struct {
	length time.Duration // set for duration windows
	at     time.Duration // time of day for daily windows
	daily  bool
}

// ValidateWindow checks a digest window spec: a duration from one minute to
// 24h that divides a day evenly ("15m", "1h", "6h", "24h"), or "daily@HH:MM".
func ValidateWindow(spec string) error {
	_, err := parseWindow(spec)
	return err
}

func parseWindow(spec string) (window, error) {
	if clock, ok := strings.CutPrefix(spec, dailyPrefix); ok {
		at, err := parseClock(clock)
		if err != nil {
			return window{}, fmt.Errorf("digest window %q: %w", spec, err)
		}
		return window{at: at, daily: true}, nil
	}
	d, err := time.ParseDuration(spec)
	if err != nil {
		return window{}, fmt.Errorf("digest window %q: want a duration such as 1h or daily@HH:MM", spec)
	}
	const day = 24 * time.Hour
	switch {
	case d < time.Minute || d > day:
		return window{}, fmt.Errorf("digest window %q: duration must be from 1m to 24h", spec)
	case day%d != 0:
		return window{}, fmt.Errorf("digest window %q: duration must divide 24h evenly so windows align to local midnight", spec)
	}
	return window{length: d}, nil
}

// WindowEnd returns the end of the digest window containing t, always
// strictly after t; windows include their start and exclude their end.
//
// For a duration d, windows are aligned to local midnight on the wall clock:
// they end at the next wall time that is a multiple of d since midnight, so
// "1h" windows end on the hour and "24h" windows at local midnight, even on a
// day that daylight saving makes 23 or 25 hours long (that day's windows
// stretch or shrink with it).
//
// For "daily@HH:MM" the window ends at the next HH:MM local strictly after t:
// an event at exactly 08:00 falls into the window ending at 08:00 tomorrow.
func WindowEnd(t time.Time, loc *time.Location, spec string) (time.Time, error) {
	w, err := parseWindow(spec)
	if err != nil {
		return time.Time{}, err
	}
	local := t.In(orUTC(loc))
	year, month, day := local.Date()

	if w.daily {
		end := wallInstant(year, month, day, w.at, local.Location())
		for !end.After(t) {
			day++
			end = wallInstant(year, month, day, w.at, local.Location())
		}
		return end, nil
	}

	// Wall-clock boundaries are k*length after local midnight; a boundary
	// past 24h is simply on the next day, as length divides a day. Where a
	// clock change repeats an hour and t is in the repeat, the next boundary
	// on the wall clock first occurred before t, so walk forward until one
	// is after t.
	k := sinceMidnight(local)/w.length + 1
	end := wallInstant(year, month, day, k*w.length, local.Location())
	for !end.After(t) {
		k++
		end = wallInstant(year, month, day, k*w.length, local.Location())
	}
	return end, nil
}
