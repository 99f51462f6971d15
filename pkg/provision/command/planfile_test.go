package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// A plan saved with -out is applied by `up FILE` without a question.
func TestSavedPlanApplies(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	file := filepath.Join(ct.dir, "tfplan")
	code, err := Plan(ctx, ct.options(false, ""), PlanOptions{Out: file})
	ct.want("plan -out", code, 0, err, "Saved the plan to "+file)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the plan file: %v %v", fi, err)
	}
	code, err = Up(ctx, ct.options(false, ""), UpOptions{PlanFile: file})
	ct.want("up FILE", code, 0, err, "Apply complete! Resources: 2 added")
	if !ct.world.exists("a") || !ct.world.exists("b") {
		t.Fatal("up FILE did not build")
	}
}

// A saved plan is refused, changing nothing, once the configuration, state or AWS changed.
func TestSavedPlanStale(t *testing.T) {
	cases := []struct {
		name   string
		change func(ct *commandTest)
		want   string
	}{
		{"configuration", func(ct *commandTest) {
			if err := os.WriteFile(filepath.Join(ct.dir, "provision.yaml"), []byte("stack: unit\nregion: eu-west-1\n# edited\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "the configuration file changed since"},
		{"state", func(ct *commandTest) {
			doc := ct.load(ct.stateFile())
			doc.Serial++
			if err := os.WriteFile(ct.stateFile(), mustJSON(t, doc), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "the state changed since"},
		{"AWS", func(ct *commandTest) { ct.world.set("b", false) }, "AWS changed since"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := newCommandTest(t)
			ctx := context.Background()
			ct.built()
			ct.world.set("a", false) // something to do
			file := filepath.Join(ct.dir, "tfplan")
			code, err := Plan(ctx, ct.options(false, ""), PlanOptions{Out: file})
			ct.want("plan -out", code, 0, err)
			c.change(ct)
			code, err = Up(ctx, ct.options(false, ""), UpOptions{PlanFile: file})
			ct.want("up of a stale plan", code, 1, err, "is stale: "+c.want, "Nothing was changed")
			if ct.world.exists("a") {
				t.Error("a stale plan was applied")
			}
		})
	}
}

// A plan of another stack is stale too.
func TestSavedPlanOfAnotherStack(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	file := filepath.Join(ct.dir, "tfplan")
	code, err := Plan(ctx, ct.options(false, ""), PlanOptions{Out: file})
	ct.want("plan -out", code, 0, err)
	var p savedPlan
	if err := json.Unmarshal(mustRead(t, file), &p); err != nil {
		t.Fatal(err)
	}
	p.Stack = "other"
	if err := os.WriteFile(file, mustJSON(t, p), 0o600); err != nil {
		t.Fatal(err)
	}
	code, err = Up(ctx, ct.options(false, ""), UpOptions{PlanFile: file})
	ct.want("up of another stack's plan", code, 1, err, `it is for stack "other" in eu-west-1, not "unit"`)
	if ct.world.exists("a") {
		t.Error("another stack's plan was applied")
	}
}

// A missing, foreign or newer-format plan file is refused, saying what to do.
func TestLoadPlanRefusals(t *testing.T) {
	ct := newCommandTest(t)
	dir := ct.dir
	files := map[string]string{"garbage": "not json", "empty": "{}", "future": `{"format_version": 99}`}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]string{
		"absent":  "not found: make one with `provision plan -out",
		"garbage": "is not a plan saved by `provision plan -out`",
		"empty":   "is not a plan saved by `provision plan -out`",
		"future":  "plan format 99, this one reads 1",
	}
	for name, want := range cases {
		code, err := Up(context.Background(), ct.options(false, ""), UpOptions{PlanFile: filepath.Join(dir, name)})
		ct.want("up "+name, code, 1, err, want)
	}
	if ct.world.exists("a") {
		t.Error("a refused plan changed something")
	}
}

// plan -destroy cannot be saved: down plans and carries out a teardown.
func TestPlanDestroyOut(t *testing.T) {
	ct := newCommandTest(t)
	file := filepath.Join(ct.dir, "tfplan")
	code, err := Plan(context.Background(), ct.options(false, ""), PlanOptions{Destroy: true, Out: file})
	ct.want("plan -destroy -out", code, 1, err, "provision down")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a teardown plan was saved: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
