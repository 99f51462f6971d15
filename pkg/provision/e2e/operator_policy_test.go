package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The emulator enforces IAM for IAM users once its count of unchecked
// requests is reached (moto's INITIAL_NO_AUTH_ACTION_COUNT, set through
// /moto-api/reset-auth). It matches actions and, for S3, resources; it
// names no resource for other services ("*") and evaluates no condition.
// So the printed policy is loaded with every resource but S3's widened to
// "*" and each ? widened to * (moto reads a pattern as a regular
// expression); what it proves is that the printed actions are enough for
// plan, up, status and down, and that nothing else is needed. The
// conditions and resources are proved against the requests in the unit
// tests of the policy (pkg/provision, TestOperatorPolicyConditions).
func enforceIAM(t *testing.T, h *harness, on bool) {
	t.Helper()
	count := "1000000000" // off: this many requests go unchecked
	if on {
		count = "0"
	}
	resp, err := http.Post(h.moto.URL+"/moto-api/reset-auth", "text/plain", strings.NewReader(count))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset-auth: %s", resp.Status)
	}
}

// forMoto is a printed policy part as the emulator can hold it.
func forMoto(t *testing.T, doc []byte) string {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatalf("iam-policy printed no policy: %v\n%s", err, doc)
	}
	for _, s := range p["Statement"].([]any) {
		st := s.(map[string]any)
		var widened []any
		for _, r := range st["Resource"].([]any) {
			r := r.(string)
			if !strings.HasPrefix(r, "arn:aws:s3:::") && st["Effect"] == "Allow" {
				r = "*"
			}
			widened = append(widened, strings.ReplaceAll(r, "?", "*"))
		}
		st["Resource"] = widened
		for _, a := range st["Action"].([]any) {
			if alias, ok := motoS3Names[a.(string)]; ok {
				st["Action"] = append(st["Action"].([]any), alias)
			}
		}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// motoS3Names: the emulator checks some S3 calls under names of its own
// instead of the IAM action AWS checks ("Actions, resources, and condition
// keys for Amazon S3": HeadBucket is s3:ListBucket, the public access
// block's calls are s3:GetBucketPublicAccessBlock and
// s3:PutBucketPublicAccessBlock).
var motoS3Names = map[string]string{
	"s3:ListBucket":                    "s3:HeadBucket",
	"s3:GetBucketPublicAccessBlock":    "s3:GetPublicAccessBlock",
	"s3:PutBucketPublicAccessBlock":    "s3:PutPublicAccessBlock",
	"s3:DeleteBucketPublicAccessBlock": "s3:DeletePublicAccessBlock",
}

// operator makes an IAM user holding the given parts of the printed
// operator policy and returns its keys.
func operator(t *testing.T, h *harness, name string, parts ...int) (id, secret string) {
	t.Helper()
	var args [][]string
	for _, part := range parts {
		args = append(args, []string{"iam-policy", "--part", fmt.Sprint(part)})
	}
	return userWith(t, h, name, args...)
}

// userWith makes an IAM user holding the policies the iam-policy commands
// print, and returns its keys.
func userWith(t *testing.T, h *harness, name string, commands ...[]string) (id, secret string) {
	t.Helper()
	ctx := context.Background()
	iamc := iam.NewFromConfig(awsConfig(h.moto.URL))
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for part, command := range commands {
		out := h.mustRun(0, command...)
		pol, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("%s-%d", name, part)), PolicyDocument: aws.String(forMoto(t, []byte(out.stdout)))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: pol.Policy.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

// An operator holding exactly the printed policy (both parts) runs plan,
// up, status and down on an emulator that refuses every action outside
// it; one holding the first part only is refused before anything changes.
func TestOperatorPolicyIsEnough(t *testing.T) {
	h := newHarness(t)
	h.writeConfig(baseConfig + "cache: {s3: true}\nstate:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	makeStateBucket(t, h)
	id, secret := operator(t, h, "operator", 1, 2)
	partialID, partialSecret := operator(t, h, "partial", 1)
	base := h.env
	t.Cleanup(func() { enforceIAM(t, h, false) })
	enforceIAM(t, h, true)

	h.env = append(append([]string{}, base...), "AWS_ACCESS_KEY_ID="+partialID, "AWS_SECRET_ACCESS_KEY="+partialSecret)
	if r := h.run("up", "--auto-approve", "--no-wait"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "AccessDenied") {
		t.Fatalf("up with half the policy: want an access error\n%s", r)
	}

	h.env = append(append([]string{}, base...), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	h.mustRun(0, "plan")
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	h.mustRun(0, "plan", "--detailed-exitcode")
	st := h.run("status")
	if strings.Contains(st.stdout+st.stderr, "AccessDenied") {
		t.Errorf("status needs more than the policy:\n%s", st)
	}
	h.mustRun(0, "down", "--auto-approve")

	enforceIAM(t, h, false)
	if left := h.tagged("net"); len(left) > 0 {
		t.Errorf("down left %v", left)
	}
}

// A role made before roles had a boundary (or whose boundary an
// administrator removed) gets it back: plan says so, up sets it first.
func TestRoleWithoutBoundaryGetsIt(t *testing.T) {
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	ctx := context.Background()
	iamc := iam.NewFromConfig(awsConfig(h.moto.URL))
	role := aws.String("net-eu-west-1-manager")
	if _, err := iamc.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: role}); err != nil {
		t.Fatal(err)
	}
	plan := h.run("plan", "--detailed-exitcode")
	if plan.code != 2 || !strings.Contains(plan.stdout, "set the permissions boundary net-eu-west-1-boundary") {
		t.Fatalf("plan of a role without its boundary:\n%s", plan)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	got, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: role})
	if err != nil || got.Role.PermissionsBoundary == nil ||
		aws.ToString(got.Role.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::123456789012:policy/provision/net-eu-west-1-boundary" {
		t.Fatalf("the role's boundary after up: %+v %v", got, err)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// A planner holding the plan policy (iam-policy --plan) plans and reads
// the status and the log of a built stack on an emulator that refuses
// every action outside it, and cannot change anything: up is refused.
func TestPlanPolicyIsEnoughToPlanOnly(t *testing.T) {
	h := newHarness(t)
	h.writeConfig(baseConfig + "cache: {s3: true}\nstate:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	makeStateBucket(t, h)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	id, secret := userWith(t, h, "planner", []string{"iam-policy", "--plan"})
	base := h.env
	t.Cleanup(func() { enforceIAM(t, h, false) })
	enforceIAM(t, h, true)
	h.env = append(append([]string{}, base...), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	h.mustRun(0, "plan", "--detailed-exitcode")
	if st := h.run("status"); strings.Contains(st.stdout+st.stderr, "AccessDenied") {
		t.Errorf("status needs more than the plan policy:\n%s", st)
	}
	h.mustRun(0, "logs")
	// writeConfig makes the stack's boundary as the administrator: not
	// the planner.
	enforceIAM(t, h, false)
	h.writeConfig(strings.Replace(baseConfig, "tags: {team: ci}", "tags: {team: platform}", 1) + "cache: {s3: true}\nstate:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	enforceIAM(t, h, true)
	if p := h.mustRun(2, "plan", "--detailed-exitcode"); !strings.Contains(p.stdout, "tag team: ci -> platform") {
		t.Errorf("the planner's plan:\n%s", p.stdout)
	}
	if r := h.run("up", "--auto-approve", "--no-wait"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "AccessDenied") {
		t.Errorf("up with the plan policy: want an access error\n%s", r)
	}
	h.env = base
	enforceIAM(t, h, false)
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Errorf("down left %v", left)
	}
}
