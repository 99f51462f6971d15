package ops

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// FollowLogs prints each line once, a line that shows up late (stamped
// before one already printed, from another unit) included, and ends on
// Ctrl-C without an error.
func TestFollowLogs(t *testing.T) {
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	line := func(id string, s int, msg string) LogLine {
		return LogLine{Time: t0.Add(time.Duration(s) * time.Second), Unit: "gitlab-runner", Instance: "i-1", Message: msg, id: id}
	}
	rounds := [][]LogLine{
		{line("1", 0, "first"), line("2", 10, "second")},
		{line("1", 0, "first"), line("3", 5, "late, from another unit"), line("2", 10, "second"), line("4", 11, "fourth")},
		{line("4", 11, "fourth")},
	}
	stop := make(chan struct{})
	var sinces []time.Time
	n := 0
	read := func(_ context.Context, q LogQuery) ([]LogLine, error) {
		sinces = append(sinces, q.Since)
		r := rounds[min(n, len(rounds)-1)]
		if n++; n == len(rounds) {
			close(stop)
		}
		var out []LogLine
		for _, l := range r {
			if !l.Time.Before(q.Since) {
				out = append(out, l)
			}
		}
		return out, nil
	}
	var w bytes.Buffer
	if err := FollowLogs(context.Background(), read, LogQuery{Since: t0.Add(-time.Hour)}, &w, time.Millisecond, stop); err != nil {
		t.Fatal(err)
	}
	got := w.String()
	for _, want := range []string{"first", "second", "late, from another unit", "fourth"} {
		if strings.Count(got, want) != 1 {
			t.Errorf("%q printed %d times:\n%s", want, strings.Count(got, want), got)
		}
	}
	if len(sinces) < 2 || !sinces[1].Equal(t0.Add(10*time.Second-followWindow)) {
		t.Errorf("the second look reads from %v, want a minute before the newest line", sinces)
	}
}

// A line from the machine cannot act on the terminal, pass for another
// line or show a runner token, in its message or its stream's name.
func TestLogLineIsOneCleanLine(t *testing.T) {
	l := LogLine{Time: time.Unix(0, 0), Unit: "gitlab-runner\x1b[2J", Instance: "i-1\r", Message: "ok\n2026-12-06T00:00:00Z boot i-2  faked glrt-abcdef\x1b]8;;https://evil/\x07"}
	s := l.String()
	if strings.ContainsAny(s, "\x1b\r\n\x07") || strings.Contains(s, "glrt-abcdef") || !strings.Contains(s, `ok\n2026-12-06`) {
		t.Errorf("line: %q", s)
	}
}
