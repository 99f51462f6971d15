package command

import (
	"context"
	"os"
	"testing"

	"github.com/provision-dev/provision/pkg/provision"
)

// down needs --auto-approve without a terminal, cancels on anything but "yes", destroys on "yes".
func TestDownPrompts(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	ct.built()
	code, err := Down(ctx, ct.options(false, ""), DownOptions{})
	ct.want("down without a terminal", code, 1, err, "- a", "--auto-approve")
	code, err = Down(ctx, ct.options(true, "no\n"), DownOptions{})
	ct.want("down answered no", code, 1, err, "Do you really want to destroy all resources of stack unit? There is no undo.", "cancelled: nothing was changed")
	if !ct.world.exists("a") || !ct.world.exists("b") {
		t.Fatal("an unconfirmed down destroyed something")
	}
	if _, err := os.Stat(ct.stateFile()); err != nil {
		t.Fatalf("an unconfirmed down removed the state: %v", err)
	}
	code, err = Down(ctx, ct.options(true, "yes\n"), DownOptions{})
	ct.want("down answered yes", code, 0, err, "Destroy complete! Resources: 2 destroyed.")
	if ct.world.exists("a") || ct.world.exists("b") {
		t.Fatal("down left resources")
	}
	if ct.world.record != nil {
		t.Errorf("down left the stack's state record: %+v", ct.world.record)
	}
}

// When --discover finds nothing but the state records resources, the state file is kept.
func TestDownDiscoverKeepsState(t *testing.T) {
	ct := newCommandTest(t)
	ct.built()
	ct.world.set("a", false)
	ct.world.set("b", false)
	code, err := Down(context.Background(), ct.options(false, ""), DownOptions{AutoApprove: true, Discover: true})
	ct.want("down --discover", code, 0, err, "Nothing of stack unit was found by its tags in eu-west-1", "records 2 resource(s) and is kept")
	if _, err := os.Stat(ct.stateFile()); err != nil {
		t.Fatalf("the state file was removed: %v", err)
	}
}

// down refuses a stack whose state lives elsewhere, unless --adopt.
func TestDownStateElsewhere(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	ct.built()
	ct.world.record = &provision.StateRecord{Location: "s3://other-bucket/unit.json", Lineage: "l-1"}
	code, err := Down(ctx, ct.options(false, ""), DownOptions{AutoApprove: true})
	ct.want("down", code, 1, err, "stack unit keeps its state at s3://other-bucket/unit.json", "--adopt")
	if !ct.world.exists("a") {
		t.Fatal("down of a state that is not the stack's destroyed something")
	}
	code, err = Down(ctx, ct.options(false, ""), DownOptions{AutoApprove: true, Adopt: true})
	ct.want("down --adopt", code, 0, err, "Destroy complete!")
}
