package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// hostile is outside text with what a terminal would act on: a colour, an
// OSC 8 hyperlink, a carriage return that overwrites, a C1 CSI and a bidi
// override.
const hostile = "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example/\x07link\x1b]8;;\x07 fail\rok \u009b2J \u202Eexe.txt \u2028end"

// terminalControls lists what must never reach the terminal from outside.
var terminalControls = []string{"\x1b", "\r", "\x07", "\u009b", "\u202E", "\u2028"}

func checkNoControls(t *testing.T, where, out string) {
	t.Helper()
	for _, c := range terminalControls {
		if strings.Contains(out, c) {
			t.Errorf("%s contains %q:\n%q", where, c, out)
		}
	}
}

// The final error is printed without escape sequences: here a file name,
// as it would be an AWS or GitLab message inside the error.
func TestErrorIsPrintedClean(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"provision", "--no-color", "-c", "nope" + hostile + ".yaml", "plan"}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Fatalf("a missing config file must fail:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "Error: ") || !strings.Contains(stderr.String(), "[31mred[0m") {
		t.Errorf("the error is not printed, or not whole:\n%q", stderr.String())
	}
	checkNoControls(t, "stderr", stderr.String())
}

// Log lines carry AWS's and GitLab's messages, in the message and in fields.
func TestLogIsClean(t *testing.T) {
	for _, format := range []string{"console", "json"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			log, err := newLogger("debug", format, &out, true)
			if err != nil {
				t.Fatal(err)
			}
			log.With(zap.String("from", hostile)).Warn("retrying: "+hostile, zap.String("error", hostile), zap.Error(errors.New(hostile)))
			if !strings.Contains(out.String(), "retrying: ") || !strings.Contains(out.String(), "exe.txt") {
				t.Errorf("the line is not written whole:\n%q", out.String())
			}
			checkNoControls(t, "the log", out.String())
		})
	}
}
