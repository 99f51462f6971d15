package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./pkg/plan -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

var sampleChanges = []Change{
	{Step: "vpc", Kind: "vpc", Name: "ci-vpc", ID: "vpc-0abc", Action: NoOp, Attrs: []Attr{{"cidr", "192.168.0.0/24"}}},
	{Step: "subnet/public", Kind: "subnet", Name: "ci-public", Action: Create, Attrs: []Attr{{"cidr", "192.168.0.0/27"}, {"map_public_ip", "true"}}},
	{Step: "sg/manager", Kind: "security-group", Name: "ci-manager", ID: "sg-0123", Action: Update,
		Reasons: []string{"add inbound tcp 22 from 203.0.113.10/32", "remove inbound tcp 3389 from 0.0.0.0/0"}},
	{Step: "nat", Kind: "nat-gateway", Name: "ci-nat", ID: "nat-0456", Action: Delete},
}

func TestRenderText(t *testing.T) {
	h := Header{Stack: "ci", Region: "eu-west-1"}
	var b bytes.Buffer
	if err := RenderText(&b, h, sampleChanges, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.txt", b.Bytes())
	b.Reset()
	if err := RenderText(&b, h, sampleChanges, TextOptions{ShowUnchanged: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-debug.txt", b.Bytes())
	b.Reset()
	if err := RenderText(&b, h, sampleChanges[:1], TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-empty.txt", b.Bytes())
}

func TestRenderJSON(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, Header{Stack: "ci", Region: "eu-west-1"}, sampleChanges); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", b.Bytes())
}

// On a terminal the symbols are coloured as Terraform colours them.
func TestRenderTextColor(t *testing.T) {
	var b strings.Builder
	h := Header{Stack: "ci", Region: "eu-west-1"}
	if err := RenderText(&b, h, sampleChanges, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\x1b[32m+\x1b[0m", "\x1b[33m~\x1b[0m", "\x1b[31m-\x1b[0m"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	b.Reset()
	_ = RenderText(&b, h, sampleChanges, TextOptions{})
	if strings.Contains(b.String(), "\x1b[") {
		t.Errorf("colour without Color:\n%s", b.String())
	}
}

// A reason or value quoting outside text (a boot report, a tag value set
// by hand) is shown without its escape sequences; the plan's own colours
// stay.
func TestRenderTextCleansOutsideText(t *testing.T) {
	changes := []Change{{Step: "instance/manager", Kind: "instance", Name: "ci-manager\u202Etxt", ID: "i-0abc", Action: Replace,
		Attrs:   []Attr{{"team", "\x1b]8;;https://evil.example/\x07ci\x1b]8;;\x07"}},
		Reasons: []string{"must be replaced: its boot failed at stage token-verified (\x1b[2J\x1b[Hfake\rok \u009b31m)"}}}
	var b strings.Builder
	if err := RenderText(&b, Header{Stack: "ci", Region: "eu-west-1"}, changes, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(b.String(), symbolColors[Replace], "")
	out = strings.ReplaceAll(out, "\x1b[0m", "")
	for _, c := range []string{"\x1b", "\r", "\x07", "\u009b", "\u202E"} {
		if strings.Contains(out, c) {
			t.Errorf("the plan contains %q:\n%q", c, b.String())
		}
	}
	if !strings.Contains(out, "([2J[Hfakeok 31m)") || !strings.Contains(out, "team=]8;;https://evil.example/ci]8;;") {
		t.Errorf("the reason or value is not shown:\n%q", out)
	}
}
