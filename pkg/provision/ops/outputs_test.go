package ops

import (
	"reflect"
	"slices"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// Outputs take ids or attributes from the state, skip what is missing or gone, and find the runner's id.
func TestOutputsFromTheState(t *testing.T) {
	doc := state.New("ci", "eu-west-1")
	doc.Resources[string(stack.StepManagerAddress)] = &state.Resource{ID: "eipalloc-1", Status: state.StatusCreated, Attributes: map[string]string{"public_ip": "198.51.100.7"}}
	doc.Resources[string(stack.StepManager)] = &state.Resource{ID: "i-1", Status: state.StatusCreated}
	doc.Resources[string(stack.StepVPC)] = &state.Resource{ID: "vpc-1", Status: state.StatusExternal}
	doc.Resources[string(stack.StepNATAddress)] = &state.Resource{ID: "eipalloc-2", Status: state.StatusGone, Attributes: map[string]string{"public_ip": "198.51.100.8"}}
	doc.Resources[string(stack.StepToken)] = &state.Resource{ID: "/provision/ci/runner-token", Status: state.StatusCreated, Attributes: map[string]string{"gitlab_runner_id": "42"}}
	got := map[string]string{}
	for _, o := range Outputs(doc) {
		if _, dup := got[o.Name]; dup {
			t.Errorf("%s twice", o.Name)
		}
		if o.Description == "" {
			t.Errorf("%s without a description", o.Name)
		}
		got[o.Name] = o.Value
	}
	want := map[string]string{"manager_address": "198.51.100.7", "manager_instance_id": "i-1", "vpc_id": "vpc-1",
		"gitlab_runner_id": "42", "token_parameter": "/provision/ci/runner-token"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outputs %v\nwant %v", got, want)
	}

	delete(doc.Resources, string(stack.StepToken))
	doc.Resources[string(stack.StepGitLabRunner)] = &state.Resource{ID: "43", Status: state.StatusCreated, Attributes: map[string]string{"parameter": "/provision/ci/runner-token"}}
	got = map[string]string{}
	for _, o := range Outputs(doc) {
		got[o.Name] = o.Value
	}
	if got["gitlab_runner_id"] != "43" || got["token_parameter"] != "/provision/ci/runner-token" {
		t.Errorf("with gitlab/runner: %v", got)
	}
}

// Every output name is listed exactly once.
func TestOutputNamesOnce(t *testing.T) {
	names := OutputNames()
	if len(names) != 13 {
		t.Errorf("%d names: %v", len(names), names)
	}
	for i, n := range names {
		if slices.Contains(names[i+1:], n) {
			t.Errorf("%s twice", n)
		}
	}
	for _, n := range []string{"manager_address", "gitlab_runner_id", "token_parameter", "ssh_key_parameter"} {
		if !slices.Contains(names, n) {
			t.Errorf("no %s", n)
		}
	}
}
