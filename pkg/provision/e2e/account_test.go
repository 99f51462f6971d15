package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// makeSpotRole stands in for an account that has used Spot before: the
// emulator names service-linked roles its own way, so the role is made by
// its real name and path.
func makeSpotRole(t *testing.T, h *harness) {
	t.Helper()
	_, err := iam.NewFromConfig(awsConfig(h.moto.URL)).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String("AWSServiceRoleForEC2Spot"), Path: aws.String("/aws-service-role/spot.amazonaws.com/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"spot.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	must(t, err)
}

// answerDefaultEBSKey makes the proxy answer GetEbsDefaultKmsKeyId, which
// the emulator does not implement, with keyARN, as EC2 would.
func answerDefaultEBSKey(h *harness, keyARN string) {
	h.proxy.SetFault(func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		if action != "GetEbsDefaultKmsKeyId" {
			return false, false
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetEbsDefaultKmsKeyIdResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>e2e</requestId><kmsKeyId>%s</kmsKeyId></GetEbsDefaultKmsKeyIdResponse>`, keyARN)
		return true, false
	})
}

// A customer managed default EBS key that the Auto Scaling role may not
// use stops up before anything is made, with the grant to make; once the
// grant exists, up goes ahead.
func TestCustomerManagedDefaultEBSKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	kmsc := kms.NewFromConfig(awsConfig(h.moto.URL))
	key, err := kmsc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("company default EBS key")})
	must(t, err)
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	answerDefaultEBSKey(h, keyARN)
	h.writeConfig(baseConfig)
	var r result
	calls := h.countMutating(func() { r = h.mustRun(1, "up", "--auto-approve") })
	if len(calls) != 0 {
		t.Errorf("mutating calls despite the failed preflight: %v", calls)
	}
	for _, want := range []string{"customer managed key " + keyARN, "aws kms create-grant", "AWSServiceRoleForAutoScaling", "nothing was changed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not say %q:\n%s", want, r.stderr)
		}
	}
	role := "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
	_, err = kmsc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keyARN), GranteePrincipal: aws.String(role),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationEncrypt, kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationReEncryptFrom, kmstypes.GrantOperationReEncryptTo,
			kmstypes.GrantOperationGenerateDataKey, kmstypes.GrantOperationGenerateDataKeyWithoutPlaintext, kmstypes.GrantOperationDescribeKey, kmstypes.GrantOperationCreateGrant}})
	must(t, err)
	h.mustRun(0, "up", "--auto-approve")
	h.proxy.SetFault(nil)
	h.mustRun(0, "down", "--auto-approve")
}

// GitLab with an IPv6 address: the plan admits the manager's IPv6
// address and the private subnet's /64 on 443 besides the two Elastic IPs.
func TestPlanAdmitsIPv6PathsToGitLab(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(strings.Replace(baseConfig, "url: GITLAB_URL", "url: https://[2001:db8::10]", 1))
	p := h.mustRun(0, "plan")
	for _, want := range []string{"(instance/manager ipv6)", "(subnet/private ipv6)", "(eip/nat)", "(eip/manager)"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the plan of gitlab/ingress does not admit %s:\n%s", want, p.stdout)
		}
	}
}

// status shows when the runner token expires, as GitLab says, and exits 2
// when that is within two weeks; preflight warns.
func TestTokenExpiryInStatusAndPreflight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	soon := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	h.gitlab.SetRunnerTokenExpiry(soon)
	const expiring = "glrt-expiring-soon-token-1"
	h.gitlab.AddRunner(expiring)
	h.env = []string{"GITLAB_RUNNER_TOKEN=" + expiring}
	h.writeConfig(baseConfig)
	up := h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(up.stderr, "GITLAB_RUNNER_TOKEN expires "+soon.Format(time.RFC3339)) {
		t.Errorf("up does not warn that the token expires soon:\n%s", up.stderr)
	}
	// A token that expires within two weeks makes the stack unhealthy.
	st := h.mustRun(2, "status", "--json")
	var rep struct {
		Facts struct {
			Expires string `json:"runner_token_expires_at"`
		}
		Problems []string
	}
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil || rep.Facts.Expires != soon.Format(time.RFC3339) ||
		len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "the runner token expires on "+soon.Format(time.RFC3339)) {
		t.Errorf("status does not show the token's expiry: %+v %v\n%s", rep, err, st.stdout)
	}
	if strings.Contains(st.stdout+st.stderr+up.stdout+up.stderr, expiring) {
		t.Errorf("the token appears in the output")
	}
	h.mustRun(0, "down", "--auto-approve")
}

// gitlab-runner renewed the token on the manager and stored the new one:
// an up with the outdated GITLAB_RUNNER_TOKEN keeps the stored token and
// changes nothing.
func TestRenewedTokenIsKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	const renewed = "glrt-renewed-by-the-manager-1"
	h.gitlab.ResetToken(runnerToken, renewed)
	ssmc := ssm.NewFromConfig(awsConfig(h.moto.URL))
	ctx := context.Background()
	_, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/provision/net/runner-token"), Value: aws.String(renewed), Overwrite: aws.Bool(true), Type: ssmtypes.ParameterTypeSecureString})
	must(t, err)
	var r result
	calls := h.countMutating(func() { r = h.mustRun(0, "up", "--auto-approve") })
	if len(calls) != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Errorf("up with the outdated token changed something: %v\n%s", calls, r)
	}
	p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token"), WithDecryption: aws.Bool(true)})
	must(t, err)
	if aws.ToString(p.Parameter.Value) != renewed {
		t.Errorf("the renewed token was overwritten")
	}
	if strings.Contains(r.stdout+r.stderr, renewed) {
		t.Errorf("the renewed token appears in the output")
	}
}
