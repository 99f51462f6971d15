package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// ciJob is the part of a GitLab CI job the example must get right.
type ciJob struct {
	Stage     string            `yaml:"stage"`
	Script    []string          `yaml:"script"`
	Variables map[string]string `yaml:"variables"`
	Needs     []string          `yaml:"needs"`
	Rules     []struct {
		If   string `yaml:"if"`
		When string `yaml:"when"`
	} `yaml:"rules"`
	Artifacts struct {
		Paths   []string          `yaml:"paths"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
	Environment struct {
		Name string `yaml:"name"`
	} `yaml:"environment"`
	ResourceGroup string `yaml:"resource_group"`
}

// The example pipeline parses as YAML and has what it promises: validate
// and plan on merge requests and the default branch, the plan saved and
// reported to GitLab's Terraform widget, apply of exactly that plan on the
// default branch only, by hand, in an environment, one at a time; each
// job with an ID token for AWS and no secret in the file.
func TestExamplePipeline(t *testing.T) {
	data, err := os.ReadFile("../../examples/gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Stages  []string `yaml:"stages"`
		Default struct {
			IDTokens map[string]struct {
				Aud string `yaml:"aud"`
			} `yaml:"id_tokens"`
			BeforeScript []string `yaml:"before_script"`
		} `yaml:"default"`
		Validate ciJob `yaml:"validate"`
		Plan     ciJob `yaml:"plan"`
		Apply    ciJob `yaml:"apply"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("examples/gitlab-ci.yml: %v", err)
	}
	if !slices.Equal(doc.Stages, []string{"validate", "plan", "apply"}) {
		t.Errorf("stages %v", doc.Stages)
	}
	if tok, ok := doc.Default.IDTokens["AWS_ID_TOKEN"]; !ok || !strings.HasPrefix(tok.Aud, "https://") {
		t.Errorf("no ID token for AWS with GitLab's address as aud: %+v", doc.Default.IDTokens)
	}
	before := strings.Join(doc.Default.BeforeScript, "\n")
	for _, want := range []string{"go install \"github.com/provision-dev/provision/cmd/provision@${PROVISION_VERSION}\"", "AWS_WEB_IDENTITY_TOKEN_FILE", "$AWS_ID_TOKEN"} {
		if !strings.Contains(before, want) {
			t.Errorf("before_script lacks %q", want)
		}
	}
	onMergeRequestsAndDefault := func(name string, j ciJob) {
		var ifs []string
		for _, r := range j.Rules {
			ifs = append(ifs, r.If)
		}
		if !slices.Contains(ifs, `$CI_PIPELINE_SOURCE == "merge_request_event"`) || !slices.Contains(ifs, "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH") {
			t.Errorf("%s does not run on merge requests and the default branch: %v", name, ifs)
		}
	}
	onMergeRequestsAndDefault("validate", doc.Validate)
	onMergeRequestsAndDefault("plan", doc.Plan)
	if !slices.Contains(doc.Validate.Script, "provision validate") {
		t.Errorf("validate: %v", doc.Validate.Script)
	}
	p := doc.Plan
	if !slices.Contains(p.Script, "provision plan -out plan.json") || !slices.Contains(p.Script, "provision show plan.json --gitlab-report > plan-report.json") ||
		p.Artifacts.Reports["terraform"] != "plan-report.json" || !slices.Contains(p.Artifacts.Paths, "plan.json") || p.Variables["AWS_ROLE_ARN"] != "$AWS_PLAN_ROLE_ARN" {
		t.Errorf("plan: %+v", p)
	}
	a := doc.Apply
	if len(a.Rules) != 1 || a.Rules[0].If != "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" || a.Rules[0].When != "manual" {
		t.Errorf("apply does not run by hand on the default branch only: %+v", a.Rules)
	}
	if !slices.Equal(a.Script, []string{"provision up plan.json"}) || !slices.Equal(a.Needs, []string{"plan"}) || a.Environment.Name == "" || a.ResourceGroup == "" ||
		a.Variables["AWS_ROLE_ARN"] != "$AWS_APPLY_ROLE_ARN" {
		t.Errorf("apply: %+v", a)
	}
	for _, secret := range []string{"glrt-", "glpat-", "AKIA", "aws_secret_access_key"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the example holds %q", secret)
		}
	}
}
