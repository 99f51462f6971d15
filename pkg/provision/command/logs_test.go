package command

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"30m": 30 * time.Minute, "1h": time.Hour, "3d": 72 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := ParseSince(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"3days", "0", "-1h", "d", "0d", ""} {
		if _, err := ParseSince(in); err == nil {
			t.Errorf("%q is taken", in)
		}
	}
}
