package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version, commit and date are set by a release build (scripts/release,
// -ldflags "-X main.version=..."); otherwise the build info gives them:
// the module version of `go install ...@VERSION`, and the commit and its
// date that the Go toolchain stamps into a build from a clone.
var version, commit, date = "", "", ""

// versionString is the version, the commit and its date.
func versionString() string {
	v, commit, date, modified := version, commit, date, false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				commit = s.Value
			case s.Key == "vcs.time" && date == "":
				date = s.Value
			case s.Key == "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if c, dirty := strings.CutSuffix(commit, "-dirty"); dirty {
		commit, modified = c, true
	}
	if v == "" {
		v = "(devel)"
	}
	out := "provision " + v
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if modified {
			commit += "-dirty"
		}
		out += fmt.Sprintf(", commit %s", commit)
	}
	if date != "" {
		out += ", built from a commit of " + date
	}
	return out
}
