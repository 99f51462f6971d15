package stack

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// What the manager wrote is shown without terminal controls and without
// runner tokens, whichever way they are hidden.
func TestFromManager(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "curl: (28) Connection timed out", "curl: (28) Connection timed out"},
		{"console CR LF", "[ 1.0] boot\r\n[ 2.0] done\r\n", "[ 1.0] boot\n[ 2.0] done\n"},
		{"colour", "\x1b[31mfailed\x1b[0m", "[31mfailed[0m"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\", "]8;;https://evil.example/\\here]8;;\\"},
		{"CR overwrite", "token-verified failed\rtoken-verified ok    ", "token-verified failedtoken-verified ok    "},
		{"C1 CSI", "\u009b2Jcleared", "2Jcleared"},
		{"bidi override", "stage \u202Edeliaf", "stage deliaf"},
		{"line separator", "a\u2028b", "ab"},
		{"token", "token=glrt-abcdef123456", "token=glrt-[redacted]"},
		{"token split by an escape", "glrt-abc\x1bdef123", "glrt-[redacted]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := FromManager(c.in); got != c.want {
				t.Errorf("fromManager(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// Everything that prints the boot report reads it cleaned.
func TestParsedBootReportIsClean(t *testing.T) {
	e := &Env{Cfg: &config.Config{Stack: "ci"}}
	raw := `{"stage":"token-verified\u001b[2J","status":"failed\r","detail":"\u001b[31mGitLab rejected glrt-secretvalue1\u001b[0m \u202Eok","time":"2026-01-02T03:04:05Z"}`
	r, err := e.parseBootReport(&ssmtypes.Parameter{Value: aws.String(raw)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := BootReport{Stage: "token-verified[2J", Status: "failed", Detail: "[31mGitLab rejected glrt-[redacted][0m ok", Time: r.Time}
	if *r != want {
		t.Errorf("report %+v\nwant   %+v", *r, want)
	}
	if !r.Failed() {
		t.Errorf("a cleaned status %q is not failed", r.Status)
	}
}
