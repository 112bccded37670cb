package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests name zones; do not depend on the host's zoneinfo

	"github.com/stretchr/testify/require"
)

// at parses an RFC 3339 time; the explicit offset pins down wall times that a
// daylight-saving change repeats.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// 2026 changes used below:
//   America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
//   Europe/Paris:     2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
//   Asia/Tokyo and Asia/Kolkata have none.

func TestQuietHoursValidate(t *testing.T) {
	t.Parallel()
	valid := []QuietHours{
		{},
		{Start: "22:00", End: "07:00"},
		{Start: "00:00", End: "23:59"},
		{Start: "09:30", End: "17:45"},
	}
	for _, q := range valid {
		require.NoError(t, q.Validate(), "%+v", q)
	}
	invalid := map[QuietHours]string{
		{Start: "22:00"}:                  "both be set",
		{End: "07:00"}:                    "both be set",
		{Start: "7:00", End: "08:00"}:     `start: "7:00" is not a time of day`,
		{Start: "22:00", End: "24:00"}:    `end: "24:00"`,
		{Start: "12:60", End: "13:00"}:    `start: "12:60"`,
		{Start: "ab:cd", End: "13:00"}:    `start: "ab:cd"`,
		{Start: "12-00", End: "13:00"}:    `start: "12-00"`,
		{Start: "12:00 ", End: "13:00"}:   `start: "12:00 "`,
		{Start: "-1:00", End: "13:00"}:    `start: "-1:00"`,
		{Start: "08:00", End: "08:00"}:    "both 08:00",
		{Start: "08:00", End: "08:00:00"}: `end: "08:00:00"`,
	}
	for q, want := range invalid {
		err := q.Validate()
		require.Error(t, err, "%+v", q)
		require.Contains(t, err.Error(), want, "%+v", q)
	}
}

func TestNextAllowed(t *testing.T) {
	t.Parallel()
	night := QuietHours{Start: "22:00", End: "07:00"}
	office := QuietHours{Start: "09:00", End: "17:00"}
	tests := []struct {
		name string
		zone string
		q    QuietHours
		t    string
		want string // empty: t itself
	}{
		// Wrapping midnight, in New York around spring forward.
		{"ny afternoon", "America/New_York", night, "2026-03-07T12:00:00-05:00", ""},
		{"ny just before start", "America/New_York", night, "2026-03-07T21:59:59.999999999-05:00", ""},
		{"ny exactly at start", "America/New_York", night, "2026-03-07T22:00:00-05:00", "2026-03-08T07:00:00-04:00"},
		{"ny before the jump", "America/New_York", night, "2026-03-08T01:30:00-05:00", "2026-03-08T07:00:00-04:00"},
		{"ny after the jump", "America/New_York", night, "2026-03-08T03:30:00-04:00", "2026-03-08T07:00:00-04:00"},
		{"ny just before end", "America/New_York", night, "2026-03-08T06:59:59.999999999-04:00", "2026-03-08T07:00:00-04:00"},
		{"ny exactly at end", "America/New_York", night, "2026-03-08T07:00:00-04:00", ""},
		{"ny given in utc", "America/New_York", night, "2026-03-08T04:00:00Z", "2026-03-08T11:00:00Z"},

		// New York around fall back: the quiet night is an hour longer.
		{"ny fall back evening", "America/New_York", night, "2026-10-31T23:00:00-04:00", "2026-11-01T07:00:00-05:00"},
		{"ny fall back first 01:30", "America/New_York", night, "2026-11-01T01:30:00-04:00", "2026-11-01T07:00:00-05:00"},
		{"ny fall back second 01:30", "America/New_York", night, "2026-11-01T01:30:00-05:00", "2026-11-01T07:00:00-05:00"},
		{"ny fall back exactly at end", "America/New_York", night, "2026-11-01T07:00:00-05:00", ""},

		// An end the spring-forward gap skips ends at the change.
		{"end skipped", "America/New_York", QuietHours{"22:00", "02:30"}, "2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"after skipped end", "America/New_York", QuietHours{"22:00", "02:30"}, "2026-03-08T03:15:00-04:00", ""},
		// A start the gap skips starts at the change.
		{"before skipped start", "America/New_York", QuietHours{"02:30", "06:00"}, "2026-03-08T01:59:59-05:00", ""},
		{"at skipped start", "America/New_York", QuietHours{"02:30", "06:00"}, "2026-03-08T03:00:00-04:00", "2026-03-08T06:00:00-04:00"},
		// A repeated end ends at its first occurrence; the repeat is allowed.
		{"repeated end first pass", "America/New_York", QuietHours{"22:00", "01:30"}, "2026-11-01T01:10:00-04:00", "2026-11-01T01:30:00-04:00"},
		{"repeated end after first pass", "America/New_York", QuietHours{"22:00", "01:30"}, "2026-11-01T01:40:00-04:00", ""},
		{"repeated end second pass", "America/New_York", QuietHours{"22:00", "01:30"}, "2026-11-01T01:10:00-05:00", ""},
		// A repeated start starts at its first occurrence.
		{"repeated start before", "America/New_York", QuietHours{"01:30", "05:00"}, "2026-11-01T01:20:00-04:00", ""},
		{"repeated start second pass", "America/New_York", QuietHours{"01:30", "05:00"}, "2026-11-01T01:20:00-05:00", "2026-11-01T05:00:00-05:00"},

		// Paris around both changes.
		{"paris spring forward", "Europe/Paris", night, "2026-03-29T01:00:00+01:00", "2026-03-29T07:00:00+02:00"},
		{"paris fall back repeat", "Europe/Paris", night, "2026-10-25T02:30:00+01:00", "2026-10-25T07:00:00+01:00"},
		{"paris day before", "Europe/Paris", night, "2026-10-24T23:59:00+02:00", "2026-10-25T07:00:00+01:00"},
		{"paris morning", "Europe/Paris", night, "2026-10-25T07:00:01+01:00", ""},

		// Not wrapping midnight, in Tokyo.
		{"tokyo before start", "Asia/Tokyo", office, "2026-06-01T08:59:59+09:00", ""},
		{"tokyo at start", "Asia/Tokyo", office, "2026-06-01T09:00:00+09:00", "2026-06-01T17:00:00+09:00"},
		{"tokyo midday from utc", "Asia/Tokyo", office, "2026-06-01T03:00:00Z", "2026-06-01T08:00:00Z"},
		{"tokyo just before end", "Asia/Tokyo", office, "2026-06-01T16:59:59.5+09:00", "2026-06-01T17:00:00+09:00"},
		{"tokyo at end", "Asia/Tokyo", office, "2026-06-01T17:00:00+09:00", ""},
		{"tokyo night", "Asia/Tokyo", office, "2026-06-01T23:00:00+09:00", ""},
		{"tokyo wrapping just after midnight", "Asia/Tokyo", night, "2026-06-02T00:00:00+09:00", "2026-06-02T07:00:00+09:00"},

		// Empty and invalid quiet hours never hold anything back.
		{"empty", "Asia/Tokyo", QuietHours{}, "2026-06-01T23:00:00+09:00", ""},
		{"invalid", "Asia/Tokyo", QuietHours{Start: "22:00"}, "2026-06-01T23:00:00+09:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := at(t, tt.t)
			want := in
			if tt.want != "" {
				want = at(t, tt.want)
			}
			got := NextAllowed(in, zone(t, tt.zone), tt.q)
			require.True(t, got.Equal(want), "NextAllowed(%s) = %s, want %s", in, got, want)
		})
	}
}

func TestNextAllowedNilLocationIsUTC(t *testing.T) {
	t.Parallel()
	got := NextAllowed(at(t, "2026-01-01T23:00:00Z"), nil, QuietHours{Start: "22:00", End: "07:00"})
	require.True(t, got.Equal(at(t, "2026-01-02T07:00:00Z")), "got %s", got)
}

func TestValidateWindow(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"1m", "15m", "30m", "1h", "90m", "6h", "24h", "daily@00:00", "daily@08:00", "daily@23:59"} {
		require.NoError(t, ValidateWindow(spec), spec)
	}
	invalid := map[string]string{
		"":             "want a duration",
		"weekly":       "want a duration",
		"0s":           "from 1m to 24h",
		"-1h":          "from 1m to 24h",
		"30s":          "from 1m to 24h",
		"25h":          "from 1m to 24h",
		"48h":          "from 1m to 24h",
		"7h":           "divide 24h evenly",
		"1h1s":         "divide 24h evenly",
		"daily@8":      "not a time of day",
		"daily@24:00":  "not a time of day",
		"daily@":       "not a time of day",
		"Daily@08:00":  "want a duration",
		"daily@08:00Z": "not a time of day",
	}
	for spec, want := range invalid {
		err := ValidateWindow(spec)
		require.Error(t, err, spec)
		require.Contains(t, err.Error(), want, spec)
		_, err = WindowEnd(time.Now(), time.UTC, spec)
		require.Error(t, err, spec)
	}
}

func TestWindowEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		zone string
		spec string
		t    string
		want string
	}{
		// Hourly windows end on the local hour.
		{"hour mid", "America/New_York", "1h", "2026-03-07T10:15:00-05:00", "2026-03-07T11:00:00-05:00"},
		{"hour exactly on boundary", "America/New_York", "1h", "2026-03-07T11:00:00-05:00", "2026-03-07T12:00:00-05:00"},
		{"hour just before boundary", "America/New_York", "1h", "2026-03-07T10:59:59.999999999-05:00", "2026-03-07T11:00:00-05:00"},
		{"hour before the skipped 02:00", "America/New_York", "1h", "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"hour after the jump", "America/New_York", "1h", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"},
		{"hour before the repeat", "America/New_York", "1h", "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00"},
		{"hour spans the repeat", "America/New_York", "1h", "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"},
		{"hour in the repeat", "America/New_York", "1h", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"},
		{"quarter in the first pass", "America/New_York", "15m", "2026-11-01T01:20:00-04:00", "2026-11-01T01:30:00-04:00"},
		{"quarter in the repeat", "America/New_York", "15m", "2026-11-01T01:20:00-05:00", "2026-11-01T02:00:00-05:00"},
		{"hour in a half-hour zone", "Asia/Kolkata", "1h", "2026-06-01T10:10:00+05:30", "2026-06-01T11:00:00+05:30"},
		{"half hour in a half-hour zone", "Asia/Kolkata", "30m", "2026-06-01T10:10:00+05:30", "2026-06-01T10:30:00+05:30"},
		{"hour from utc in a half-hour zone", "Asia/Kolkata", "1h", "2026-06-01T04:40:00Z", "2026-06-01T05:30:00Z"},
		{"90m", "Asia/Tokyo", "90m", "2026-06-01T02:59:00+09:00", "2026-06-01T03:00:00+09:00"},
		{"90m on boundary", "Asia/Tokyo", "90m", "2026-06-01T03:00:00+09:00", "2026-06-01T04:30:00+09:00"},
		{"90m last of the day", "Asia/Tokyo", "90m", "2026-06-01T23:00:00+09:00", "2026-06-02T00:00:00+09:00"},

		// Daily windows end at local midnight, however long the day.
		{"day", "America/New_York", "24h", "2026-03-07T12:00:00-05:00", "2026-03-08T00:00:00-05:00"},
		{"short day", "America/New_York", "24h", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		{"long day", "America/New_York", "24h", "2026-11-01T12:00:00-05:00", "2026-11-02T00:00:00-05:00"},
		{"long day in the repeat", "America/New_York", "24h", "2026-11-01T01:30:00-05:00", "2026-11-02T00:00:00-05:00"},
		{"paris short day", "Europe/Paris", "24h", "2026-03-29T01:59:00+01:00", "2026-03-30T00:00:00+02:00"},
		{"paris long day", "Europe/Paris", "6h", "2026-10-25T02:30:00+01:00", "2026-10-25T06:00:00+01:00"},
		{"tokyo day from utc", "Asia/Tokyo", "24h", "2026-06-01T14:59:59Z", "2026-06-01T15:00:00Z"},
		{"tokyo day from utc next", "Asia/Tokyo", "24h", "2026-06-01T15:00:00Z", "2026-06-02T15:00:00Z"},

		// daily@HH:MM is the next HH:MM strictly after t.
		{"at before", "America/New_York", "daily@08:00", "2026-03-08T07:59:00-04:00", "2026-03-08T08:00:00-04:00"},
		{"at exactly", "America/New_York", "daily@08:00", "2026-03-08T08:00:00-04:00", "2026-03-09T08:00:00-04:00"},
		{"at after, across the jump", "America/New_York", "daily@08:00", "2026-03-07T09:00:00-05:00", "2026-03-08T08:00:00-04:00"},
		{"at across fall back", "America/New_York", "daily@08:00", "2026-10-31T08:00:00-04:00", "2026-11-01T08:00:00-05:00"},
		{"at skipped", "America/New_York", "daily@02:30", "2026-03-07T12:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"at skipped, reached", "America/New_York", "daily@02:30", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"},
		{"at repeated", "America/New_York", "daily@01:30", "2026-10-31T12:00:00-04:00", "2026-11-01T01:30:00-04:00"},
		{"at repeated, first pass", "America/New_York", "daily@01:30", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
		{"at repeated, second pass", "America/New_York", "daily@01:30", "2026-11-01T01:15:00-05:00", "2026-11-02T01:30:00-05:00"},
		{"at midnight", "Europe/Paris", "daily@00:00", "2026-10-25T23:59:59+01:00", "2026-10-26T00:00:00+01:00"},
		{"paris at", "Europe/Paris", "daily@08:00", "2026-10-25T03:00:00+01:00", "2026-10-25T08:00:00+01:00"},
		{"tokyo at from utc", "Asia/Tokyo", "daily@08:00", "2026-06-01T00:00:00Z", "2026-06-01T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := at(t, tt.t)
			got, err := WindowEnd(in, zone(t, tt.zone), tt.spec)
			require.NoError(t, err)
			want := at(t, tt.want)
			require.True(t, got.Equal(want), "WindowEnd(%s, %q) = %s, want %s", in, tt.spec, got, want)
		})
	}
}

func TestWindowEndNilLocationIsUTC(t *testing.T) {
	t.Parallel()
	got, err := WindowEnd(at(t, "2026-01-01T23:10:00+01:00"), nil, "1h")
	require.NoError(t, err)
	require.True(t, got.Equal(at(t, "2026-01-01T23:00:00Z")), "got %s", got)
}

// TestProperties sweeps 2026 in zones with unusual changes: a 30-minute one
// (Australia/Lord_Howe) and one at midnight (America/Havana), checking
// invariants rather than values.
func TestProperties(t *testing.T) {
	t.Parallel()
	zones := []string{"America/New_York", "Europe/Paris", "Asia/Tokyo", "Asia/Kolkata", "Australia/Lord_Howe", "America/Havana"}
	quiet := []QuietHours{{"22:00", "07:00"}, {"00:00", "01:00"}, {"01:30", "02:30"}, {"02:15", "02:45"}, {"09:00", "17:00"}}
	specs := []string{"15m", "1h", "90m", "24h", "daily@00:00", "daily@02:30", "daily@08:00"}
	const step = 47*time.Minute + 7*time.Second
	start := at(t, "2026-01-01T00:00:00Z")
	end := at(t, "2027-01-01T00:00:00Z")

	for _, name := range zones {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loc := zone(t, name)
			for _, q := range quiet {
				var prev time.Time
				for tm := start; tm.Before(end); tm = tm.Add(step) {
					got := NextAllowed(tm, loc, q)
					if got.Before(tm) {
						t.Fatalf("%v: NextAllowed(%s) = %s is before it", q, tm.In(loc), got.In(loc))
					}
					if again := NextAllowed(got, loc, q); !again.Equal(got) {
						t.Fatalf("%v: NextAllowed(%s) = %s, but that maps to %s", q, tm.In(loc), got.In(loc), again.In(loc))
					}
					if got.Sub(tm) > 26*time.Hour {
						t.Fatalf("%v: NextAllowed(%s) = %s is more than a day later", q, tm.In(loc), got.In(loc))
					}
					if got.Before(prev) {
						t.Fatalf("%v: NextAllowed went backwards at %s: %s < %s", q, tm.In(loc), got.In(loc), prev.In(loc))
					}
					prev = got
				}
			}
			for _, spec := range specs {
				var prev time.Time
				for tm := start; tm.Before(end); tm = tm.Add(step) {
					got, err := WindowEnd(tm, loc, spec)
					require.NoError(t, err)
					if !got.After(tm) || got.Sub(tm) > 26*time.Hour {
						t.Fatalf("%s: WindowEnd(%s) = %s is not within a day after it", spec, tm.In(loc), got.In(loc))
					}
					if just, _ := WindowEnd(got.Add(-time.Nanosecond), loc, spec); !just.Equal(got) {
						t.Fatalf("%s: WindowEnd(%s) = %s, but just before that it is %s", spec, tm.In(loc), got.In(loc), just.In(loc))
					}
					if got.Before(prev) {
						t.Fatalf("%s: WindowEnd went backwards at %s", spec, tm.In(loc))
					}
					prev = got
				}
			}
		})
	}
}

func FuzzWindowEnd(f *testing.F) {
	for _, s := range []string{"1h", "24h", "daily@08:00", "90m", "daily@", "7h", "1h0m0.5s"} {
		f.Add(s, int64(1772953200))
	}
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, spec string, unix int64) {
		tm := time.Unix(unix%(1<<34), 0)
		got, err := WindowEnd(tm, loc, spec)
		if (err == nil) != (ValidateWindow(spec) == nil) {
			t.Fatalf("WindowEnd and ValidateWindow disagree on %q: %v", spec, err)
		}
		if err == nil && !got.After(tm) {
			t.Fatalf("WindowEnd(%s, %q) = %s is not after it", tm, spec, got)
		}
	})
}
