package command

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

func decodePolicy(t *testing.T, b []byte) policy.PolicyDocument {
	t.Helper()
	var doc policy.PolicyDocument
	if err := json.Unmarshal(b, &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
		t.Fatalf("not a policy: %v\n%s", err, b)
	}
	return doc
}

// iam-policy prints the operator policy, each part with --part, and refuses a missing part.
func TestIAMPolicyParts(t *testing.T) {
	ct := newCommandTest(t)
	cfg, err := config.LoadConfig(filepath.Join(ct.dir, "provision.yaml"), "")
	if err != nil {
		t.Fatal(err)
	}
	parts := ops.ToolPolicyParts(cfg)
	code, err := IAMPolicy(ct.options(false, ""), false, 0)
	if len(parts) == 1 {
		ct.want("iam-policy", code, 0, err)
		decodePolicy(t, ct.out.Bytes())
	} else {
		ct.want("iam-policy", code, 1, err, fmt.Sprintf("it comes in %d parts", len(parts)))
	}
	statements := 0
	for i := 1; i <= len(parts); i++ {
		code, err := IAMPolicy(ct.options(false, ""), false, i)
		ct.want(fmt.Sprintf("iam-policy --part %d", i), code, 0, err)
		statements += len(decodePolicy(t, ct.out.Bytes()).Statement)
	}
	if want := len(ops.ToolPolicy(cfg).Statement); statements != want {
		t.Errorf("the parts hold %d statements, the policy %d", statements, want)
	}
	code, err = IAMPolicy(ct.options(false, ""), false, len(parts)+1)
	ct.want("iam-policy --part past the end", code, 1, err, fmt.Sprintf("the operator policy has %d parts", len(parts)))
}

// The boundary names the stack's region, so it needs one.
func TestIAMPolicyBoundary(t *testing.T) {
	ct := newCommandTest(t)
	code, err := IAMPolicy(ct.options(false, ""), true, 0)
	ct.want("iam-policy --boundary", code, 0, err)
	if doc := decodePolicy(t, ct.out.Bytes()); !strings.Contains(string(mustJSON(t, doc)), ":eu-west-1:") {
		t.Errorf("the boundary does not name the region:\n%s", ct.out.String())
	}
	if err := os.WriteFile(filepath.Join(ct.dir, "provision.yaml"), []byte("stack: unit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err = IAMPolicy(ct.options(false, ""), true, 0)
	ct.want("iam-policy --boundary without a region", code, 1, err, "set region in the configuration or pass --region")
}
