package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// init writes the template (making its directory) and never overwrites a file.
func TestInit(t *testing.T) {
	ct := newCommandTest(t)
	o := ct.options(false, "")
	file := filepath.Join(ct.dir, "sub", "new.yaml")
	code, err := Init(o, file)
	ct.want("init", code, 0, err, "Wrote "+file)
	written := string(mustRead(t, file))
	if !strings.HasPrefix(written, "# provision configuration") {
		t.Fatalf("init wrote %q", written[:min(len(written), 80)])
	}
	code, err = Init(ct.options(false, ""), file)
	ct.want("init again", code, 1, err, "already exists: init never overwrites a file")
	if string(mustRead(t, file)) != written {
		t.Error("init changed an existing file")
	}
}

// validate names the keys up needs, and passes a configuration that has them.
func TestValidate(t *testing.T) {
	ct := newCommandTest(t)
	code, err := Validate(ct.options(false, ""))
	ct.want("validate without GitLab", code, 1, err, "gitlab.url", "gitlab.security_group_id")
	cfg := "stack: unit\nregion: eu-west-1\ngitlab:\n  url: https://gitlab.example.com\n  security_group_id: sg-0123456789abcdef0\n"
	if err := os.WriteFile(filepath.Join(ct.dir, "provision.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err = Validate(ct.options(false, ""))
	ct.want("validate", code, 0, err, `is valid: stack "unit"`)
}

// A configuration with a bad value fails validate and up, and changes nothing.
func TestBadConfiguration(t *testing.T) {
	ct := newCommandTest(t)
	if err := os.WriteFile(filepath.Join(ct.dir, "provision.yaml"), []byte("stack: Not_Valid\nregion: eu-west-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err := Validate(ct.options(false, ""))
	ct.want("validate", code, 1, err, "not a valid stack name")
	code, err = Up(t.Context(), ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err, "not a valid stack name")
	if ct.world.exists("a") {
		t.Error("up with a bad configuration changed something")
	}
}

// schema prints the configuration's JSON Schema.
func TestSchema(t *testing.T) {
	ct := newCommandTest(t)
	code, err := Schema(ct.options(false, ""))
	ct.want("schema", code, 0, err)
	var s map[string]any
	if err := json.Unmarshal(ct.out.Bytes(), &s); err != nil || s["properties"] == nil {
		t.Errorf("schema: %v %v", err, s)
	}
}
