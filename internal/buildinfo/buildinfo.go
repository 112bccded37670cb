// Package buildinfo tells which Hookline a binary is: the module version,
// VCS revision and commit time the Go toolchain stamps into it, shown by
// `hookline version`, sent as User-Agent and exported as
// hookline_build_info.
package buildinfo

import (
	"runtime/debug"
	"strings"
	"time"
)

// version, when set at link time with
//
//	-ldflags "-X github.com/hookline/hookline/internal/buildinfo.version=v1.2.3"
//
// replaces the module version (for builds that are not stamped, such as
// from a source archive without .git).
var version string

// Dev is the Version of a build the toolchain did not stamp (go run,
// go test, a source archive).
const Dev = "dev"

// shortRevision is how many hex digits of a revision the one-line forms
// show: as many as a Go pseudo-version has.
const shortRevision = 12

// Info describes one build.
type Info struct {
	// Version is the main module's version: a tag such as v1.2.0, or a
	// pseudo-version naming the commit (v0.0.0-20261201100000-abcdef123456)
	// with "+dirty" when the tree had uncommitted changes; Dev when unknown.
	Version string `json:"version"`
	// Revision is the VCS commit the binary was built from; empty when
	// unknown.
	Revision string `json:"revision,omitempty"`
	// Time is the commit time of Revision — the toolchain records no build
	// time, so builds stay reproducible; zero when unknown.
	Time time.Time `json:"commit_time,omitzero"`
	// Modified reports uncommitted changes in the tree it was built from.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built it, such as go1.26.8.
	GoVersion string `json:"go_version"`
}

// Read returns the build info of the running binary.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return fromBuildInfo(bi, version)
}

// fromBuildInfo reads what the toolchain stamped into bi (nil when
// nothing was); override, when set, replaces the module version.
func fromBuildInfo(bi *debug.BuildInfo, override string) Info {
	var in Info
	if bi != nil {
		in.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Revision = s.Value
			case "vcs.time":
				in.Time, _ = time.Parse(time.RFC3339, s.Value)
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		in.Version = override
	}
	if in.Version == "" {
		in.Version = Dev
	}
	return in
}

// Short returns the revision cut to the digits a pseudo-version shows;
// empty when unknown.
func (in Info) Short() string {
	if len(in.Revision) > shortRevision {
		return in.Revision[:shortRevision]
	}
	return in.Revision
}

// String is the one-line form `hookline version` prints:
// "v1.2.0 (rev abcdef123456, modified, committed 2026-12-01T10:00:00Z, go1.26.8)",
// leaving out what is unknown.
func (in Info) String() string {
	var parts []string
	if in.Revision != "" {
		parts = append(parts, "rev "+in.Short())
	}
	if in.Modified {
		parts = append(parts, "modified")
	}
	if !in.Time.IsZero() {
		parts = append(parts, "committed "+in.Time.UTC().Format(time.RFC3339))
	}
	if in.GoVersion != "" {
		parts = append(parts, in.GoVersion)
	}
	if len(parts) == 0 {
		return in.Version
	}
	return in.Version + " (" + strings.Join(parts, ", ") + ")"
}

// UserAgent is the User-Agent of every HTTP request Hookline makes:
// "Hookline/v1.2.0 (rev abcdef123456)", or "Hookline/dev" when unstamped.
func (in Info) UserAgent() string {
	ua := "Hookline/" + in.Version
	if in.Revision != "" {
		ua += " (rev " + in.Short() + ")"
	}
	return ua
}
