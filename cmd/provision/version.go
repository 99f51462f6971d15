package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...";
// otherwise the module version from the build info is used.
var version = ""

// versionString is the module version, the commit and its date, as the Go
// toolchain records them in the binary (`go version -m provision`).
func versionString() string {
	v, commit, date, modified := version, "", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
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
