package command

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// withOutputs saves a state whose VPC and manager address are known.
func (ct *commandTest) withOutputs() {
	ct.t.Helper()
	doc := state.New("unit", "eu-west-1")
	doc.Resources[string(stack.StepVPC)] = &state.Resource{Type: "vpc", ID: "vpc-0abc", Status: state.StatusCreated}
	doc.Resources[string(stack.StepManagerAddress)] = &state.Resource{Type: "eip", ID: "eipalloc-1", Status: state.StatusCreated, Attributes: map[string]string{"public_ip": "203.0.113.7"}}
	if err := state.NewStore(ct.stateFile()).Save(doc); err != nil {
		ct.t.Fatal(err)
	}
}

// output lists the outputs the state has, with what each is.
func TestOutputAll(t *testing.T) {
	ct := newCommandTest(t)
	ct.withOutputs()
	code, err := Output(context.Background(), ct.options(false, ""), OutputOptions{})
	ct.want("output", code, 0, err, "manager_address  203.0.113.7  # the manager's Elastic IP", "vpc_id           vpc-0abc     # the VPC")
	if strings.Contains(ct.out.String(), "nat_address") {
		t.Errorf("an output the state lacks is listed:\n%s", ct.out.String())
	}
}

// output NAME prints just the value; with --json, as a JSON string.
func TestOutputOne(t *testing.T) {
	ct := newCommandTest(t)
	ct.withOutputs()
	ctx := context.Background()
	code, err := Output(ctx, ct.options(false, ""), OutputOptions{Name: "vpc_id"})
	ct.want("output vpc_id", code, 0, err)
	if got := ct.out.String(); got != "vpc-0abc\n" {
		t.Errorf("output vpc_id printed %q", got)
	}
	code, err = Output(ctx, ct.options(false, ""), OutputOptions{Name: "manager_address", JSON: true})
	ct.want("output --json manager_address", code, 0, err)
	if got := ct.out.String(); got != "\"203.0.113.7\"\n" {
		t.Errorf("output --json manager_address printed %q", got)
	}
}

// output --json prints every output as one object.
func TestOutputJSON(t *testing.T) {
	ct := newCommandTest(t)
	ct.withOutputs()
	code, err := Output(context.Background(), ct.options(false, ""), OutputOptions{JSON: true})
	ct.want("output --json", code, 0, err)
	var m map[string]string
	if err := json.Unmarshal(ct.out.Bytes(), &m); err != nil {
		t.Fatalf("output --json: %v\n%s", err, ct.out.String())
	}
	if len(m) != 2 || m["vpc_id"] != "vpc-0abc" || m["manager_address"] != "203.0.113.7" {
		t.Errorf("output --json: %v", m)
	}
}

// An unknown name gets the closest one, or the list of names.
func TestOutputUnknownName(t *testing.T) {
	ct := newCommandTest(t)
	ct.withOutputs()
	ctx := context.Background()
	code, err := Output(ctx, ct.options(false, ""), OutputOptions{Name: "vpc_ids"})
	ct.want("output vpc_ids", code, 1, err, `no output "vpc_ids"; did you mean vpc_id?`)
	code, err = Output(ctx, ct.options(false, ""), OutputOptions{Name: "zzzzzzzz"})
	ct.want("output zzzzzzzz", code, 1, err, "the outputs are manager_address, nat_address,")
	if ct.out.Len() != 0 {
		t.Errorf("an unknown output printed %q", ct.out.String())
	}
}

// Without a state output says nothing was built.
func TestOutputWithoutState(t *testing.T) {
	ct := newCommandTest(t)
	code, err := Output(context.Background(), ct.options(false, ""), OutputOptions{})
	ct.want("output", code, 1, err, `stack "unit" has no state`, "provision up")
}
