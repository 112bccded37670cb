package buildinfo

import (
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/hookline/hookline", Version: "v0.0.0-20261201100000-abcdef123456+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "abcdef1234567890abcdef1234567890abcdef12"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	cases := []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     Info
		str, ua  string
	}{
		{
			name: "stamped by go build in a checkout",
			bi:   stamped,
			want: Info{Version: "v0.0.0-20261201100000-abcdef123456+dirty", Revision: "abcdef1234567890abcdef1234567890abcdef12",
				Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Modified: true, GoVersion: "go1.26.8"},
			str: "v0.0.0-20261201100000-abcdef123456+dirty (rev abcdef123456, modified, committed 2026-12-01T10:00:00Z, go1.26.8)",
			ua:  "Hookline/v0.0.0-20261201100000-abcdef123456+dirty (rev abcdef123456)",
		},
		{
			name:     "a release tag set at link time",
			bi:       stamped,
			override: "v1.2.0",
			want: Info{Version: "v1.2.0", Revision: "abcdef1234567890abcdef1234567890abcdef12",
				Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Modified: true, GoVersion: "go1.26.8"},
			str: "v1.2.0 (rev abcdef123456, modified, committed 2026-12-01T10:00:00Z, go1.26.8)",
			ua:  "Hookline/v1.2.0 (rev abcdef123456)",
		},
		{
			name: "go test or go run",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/hookline/hookline", Version: "(devel)"}},
			want: Info{Version: Dev, GoVersion: "go1.26.8"},
			str:  "dev (go1.26.8)",
			ua:   "Hookline/dev",
		},
		{
			name: "no build info",
			want: Info{Version: Dev},
			str:  "dev",
			ua:   "Hookline/dev",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := fromBuildInfo(tc.bi, tc.override)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.str, got.String())
			require.Equal(t, tc.ua, got.UserAgent())
		})
	}
}
