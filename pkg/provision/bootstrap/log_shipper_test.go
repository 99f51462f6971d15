package bootstrap

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogShipper runs provision-logs once over a stand-in journal and AWS
// CLI: each unit group goes to its own stream, GROUP/INSTANCE-ID, in
// order, with runner tokens masked; the cursor is kept, so a second round
// ships only what is new; a failed put ships again from the same cursor.
func TestLogShipper(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	write := func(path, body string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	// journalctl prints the entries of journal.json after --after-cursor,
	// of the units asked for (as journalctl -o json does).
	write(filepath.Join(bin, "journalctl"), `#!/usr/bin/python3
import json, sys, os
args = sys.argv[1:]
units = [args[i+1] for i, a in enumerate(args) if a == "--unit"]
after = args[args.index("--after-cursor")+1] if "--after-cursor" in args else ""
open(os.environ["FAKE_DIR"] + "/journalctl.log", "a").write(" ".join(args) + "\n")
seen = not after
for line in open(os.environ["FAKE_DIR"] + "/journal.json"):
    e = json.loads(line)
    if not seen:
        seen = e["__CURSOR"] == after
        continue
    if e["_SYSTEMD_UNIT"] in units:
        print(json.dumps(e))
`, 0o755)
	// aws records its calls; put-log-events keeps the events it was given.
	write(filepath.Join(bin, "aws"), `#!/bin/bash
echo "aws $*" >> "$FAKE_DIR/aws.log"
if [[ -n ${FAKE_PUT_FAIL:-} && $* == *put-log-events* ]]; then echo "An error occurred (AccessDeniedException)" >&2; exit 254; fi
for a in "$@"; do case "$a" in file://*) cat "${a#file://}" >> "$FAKE_DIR/events.log"; echo >> "$FAKE_DIR/events.log" ;; esac; done
`, 0o755)
	// Times are an hour ago and on; one line is 20 days old, which
	// PutLogEvents would refuse, and one came before the line ahead of it
	// (a clock that stepped back).
	base := time.Now().Add(-time.Hour).UnixMicro()
	at := func(s int64) string { return strconv.FormatInt(base+s*1e6, 10) }
	entries := []map[string]any{
		{"__CURSOR": "c0", "__REALTIME_TIMESTAMP": at(-20 * 86400), "_SYSTEMD_UNIT": "gitlab-runner.service", "MESSAGE": "a line from long ago"},
		{"__CURSOR": "c1", "__REALTIME_TIMESTAMP": at(0), "_SYSTEMD_UNIT": "cloud-final.service", "MESSAGE": "provision: boot stage packages ok"},
		{"__CURSOR": "c2", "__REALTIME_TIMESTAMP": at(2), "_SYSTEMD_UNIT": "gitlab-runner.service", "MESSAGE": "Runner registered token=glrt-SECRET\x1b[0msecret_123.x"},
		{"__CURSOR": "c3", "__REALTIME_TIMESTAMP": at(1), "_SYSTEMD_UNIT": "gitlab-runner.service", "MESSAGE": []int{0x68, 0x69, 0xff}},
	}
	journal := func(es []map[string]any) string {
		var b strings.Builder
		for _, e := range es {
			j, _ := json.Marshal(e)
			b.Write(j)
			b.WriteByte('\n')
		}
		return b.String()
	}
	write(filepath.Join(dir, "journal.json"), journal(entries), 0o644)
	write(filepath.Join(dir, "values"), ManagerValues(Manager{Runner: Runner{Stack: "ci", Region: "eu-west-1"}, LogGroup: "/provision/ci/manager"}), 0o600)
	write(filepath.Join(dir, "provision-logs"), LogShipperScript, 0o755)
	run := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, "provision-logs"), "--once")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+dir, "PROVISION_VALUES="+filepath.Join(dir, "values"),
			"PROVISION_STATE="+filepath.Join(dir, "state"), "PROVISION_INSTANCE_ID=i-0123456789abcdef0")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("provision-logs: %v\n%s", err, out)
		}
		return string(out)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}

	run()
	calls := read("aws.log")
	for _, want := range []string{
		"aws logs --region eu-west-1 create-log-stream --log-group-name /provision/ci/manager --log-stream-name boot/i-0123456789abcdef0",
		"aws logs --region eu-west-1 create-log-stream --log-group-name /provision/ci/manager --log-stream-name gitlab-runner/i-0123456789abcdef0",
		"put-log-events --log-group-name /provision/ci/manager --log-stream-name gitlab-runner/i-0123456789abcdef0",
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %q in the calls:\n%s", want, calls)
		}
	}
	if strings.Contains(calls, "drain/") {
		t.Errorf("a stream was made for a unit with no lines:\n%s", calls)
	}
	events := read("events.log")
	if strings.Contains(events, "SECRET") {
		t.Fatalf("a runner token was shipped:\n%s", events)
	}
	for _, want := range []string{`glrt-[redacted]`, `boot stage packages ok`} {
		if !strings.Contains(events, want) {
			t.Errorf("no %s in the events:\n%s", want, events)
		}
	}
	// In time order, the old line left out.
	if i, j := strings.Index(events, `"message": "hi\ufffd"`), strings.Index(events, "Runner registered"); i < 0 || j < i {
		t.Errorf("the events are not in time order:\n%s", events)
	}
	if strings.Contains(events, "long ago") || !strings.Contains(events, `"timestamp": `+strconv.FormatInt((base+1e6)/1000, 10)) {
		t.Errorf("a line older than 14 days was shipped, or a time is wrong:\n%s", events)
	}
	if got := read("state/logs-cursor-gitlab-runner"); got != "c3" {
		t.Errorf("gitlab-runner's cursor is %q, want c3", got)
	}

	// A second round ships only the new line, from the cursor.
	entries = append(entries, map[string]any{"__CURSOR": "c4", "__REALTIME_TIMESTAMP": at(3), "_SYSTEMD_UNIT": "gitlab-runner.service", "MESSAGE": "job 7 started"})
	write(filepath.Join(dir, "journal.json"), journal(entries), 0o644)
	os.Remove(filepath.Join(dir, "events.log"))
	os.Remove(filepath.Join(dir, "aws.log"))
	// A failed put keeps the cursor: the line goes in the next round.
	out := run("FAKE_PUT_FAIL=1")
	if !strings.Contains(out, "AccessDeniedException") || read("state/logs-cursor-gitlab-runner") != "c3" {
		t.Errorf("after a failed put: output %q, cursor %q (want c3)", out, read("state/logs-cursor-gitlab-runner"))
	}
	run()
	if events := read("events.log"); !strings.Contains(events, "job 7 started") || strings.Contains(events, "Runner registered") {
		t.Errorf("the second round shipped:\n%s", events)
	}
	if !strings.Contains(read("journalctl.log"), "--after-cursor c3") {
		t.Errorf("journalctl was not asked for entries after the cursor:\n%s", read("journalctl.log"))
	}
	if got := read("state/logs-cursor-gitlab-runner"); got != "c4" {
		t.Errorf("cursor %q, want c4", got)
	}
}

// The units the shipper ships are the ones `provision logs --unit` names,
// in the same order: the script is Python, the list Go, and they must
// not drift apart.
func TestLogShipperUnitsAreLogUnits(t *testing.T) {
	block := LogShipperScript[strings.Index(LogShipperScript, "UNITS = {"):]
	block = block[:strings.Index(block, "}")]
	var got []string
	for _, line := range strings.Split(block, "\n")[1:] {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			got = append(got, strings.Trim(name, `"`))
		}
	}
	if strings.Join(got, ",") != strings.Join(LogUnits, ",") {
		t.Errorf("the shipper ships %v, provision logs names %v", got, LogUnits)
	}
}
