package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The emulator keeps the KeyId a parameter was put with and hands it back
// from DescribeParameters; it enforces neither key policies nor
// kms:ViaService nor the encryption context (pkg/provision's unit tests
// weigh the policies against the requests SSM makes).

// parameterKeys are the KeyIds of the stack's two SecureStrings.
func parameterKeys(t *testing.T, h *harness) map[string]string {
	t.Helper()
	out, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).DescribeParameters(context.Background(), &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"),
			Values: []string{"/provision/net/runner-token", "/provision/net/runner-ssh-key"}}},
	})
	must(t, err)
	keys := map[string]string{}
	for _, p := range out.Parameters {
		keys[aws.ToString(p.Name)] = aws.ToString(p.KeyId)
	}
	return keys
}

func wantParameterKeys(t *testing.T, h *harness, key string) {
	t.Helper()
	got := parameterKeys(t, h)
	for _, name := range []string{"/provision/net/runner-token", "/provision/net/runner-ssh-key"} {
		if got[name] != key {
			t.Errorf("%s is under %q, want %s", name, got[name], key)
		}
	}
}

func managerPolicy(t *testing.T, h *harness) string {
	t.Helper()
	pol, err := iam.NewFromConfig(awsConfig(h.moto.URL)).GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyName: aws.String("provision")})
	must(t, err)
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	return doc
}

// onlyKey is stack net's one live key; more or none fails the test.
func onlyKey(t *testing.T, h *harness) kmstypes.KeyMetadata {
	t.Helper()
	keys := h.liveKeys("net")
	if len(keys) != 1 {
		t.Fatalf("the stack has %d keys, want 1", len(keys))
	}
	return keys[0]
}

// up makes the stack's key and puts both SecureStrings under it; a plan
// after up changes nothing; a changed key policy, a lost alias and a
// parameter back under aws/ssm are repaired; down schedules the key's
// deletion 7 days ahead and removes its alias.
func TestSecretsKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := kms.NewFromConfig(awsConfig(h.moto.URL))
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")

	key := onlyKey(t, h)
	if key.KeySpec != kmstypes.KeySpecSymmetricDefault || key.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt || key.KeyState != kmstypes.KeyStateEnabled {
		t.Errorf("key %s: %s %s %s", aws.ToString(key.Arn), key.KeySpec, key.KeyUsage, key.KeyState)
	}
	arn := aws.ToString(key.Arn)
	wantAlias(t, c, key.KeyId, true)
	pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId, PolicyName: aws.String("default")})
	must(t, err)
	for _, want := range []string{"Enable IAM User Permissions", "arn:aws:iam::123456789012:root", "kms:*",
		"aws:PrincipalArn", "role/provision/net-eu-west-1-manager", "ssm.eu-west-1.amazonaws.com", "parameter/provision/net/runner-token"} {
		if !strings.Contains(aws.ToString(pol.Policy), want) {
			t.Errorf("key policy lacks %s: %s", want, aws.ToString(pol.Policy))
		}
	}
	wantParameterKeys(t, h, arn)
	param, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-token"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(param.Parameter.Value) != runnerToken {
		t.Fatalf("token parameter: %v", err)
	}
	doc := managerPolicy(t, h)
	for _, want := range []string{arn, "kms:ViaService", "kms:EncryptionContext:PARAMETER_ARN", "kms:Decrypt"} {
		if !strings.Contains(doc, want) {
			t.Errorf("manager policy lacks %s: %s", want, doc)
		}
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// Drift: another key policy, no alias, the token under aws/ssm.
	_, err = c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyId, PolicyName: aws.String("default"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)})
	must(t, err)
	_, err = c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/provision/net")})
	must(t, err)
	_, err = ssm.NewFromConfig(awsConfig(h.moto.URL)).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/provision/net/runner-token"),
		Value: aws.String(runnerToken), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String("alias/aws/ssm"), Overwrite: aws.Bool(true)})
	must(t, err)
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"its key policy is not the stack's", "alias/provision/net does not name it", "it is encrypted with alias/aws/ssm, not with the stack's key alias/provision/net"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, p.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	wantParameterKeys(t, h, arn)
	wantAlias(t, c, key.KeyId, true)

	d := h.mustRun(0, "plan", "--destroy")
	if !strings.Contains(d.stdout, "kms/secrets") {
		t.Errorf("the destroy plan does not show the key:\n%s", d.stdout)
	}
	h.mustRun(0, "down", "--auto-approve")
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
	must(t, err)
	if s := out.KeyMetadata.KeyState; s != kmstypes.KeyStatePendingDeletion {
		t.Errorf("after down the key is %s, want PendingDeletion", s)
	}
	if days := time.Until(aws.ToTime(out.KeyMetadata.DeletionDate)).Hours() / 24; days < 6.9 || days > 7.1 {
		t.Errorf("the key is deleted in %.1f days, want 7", days)
	}
	wantAlias(t, c, key.KeyId, false)
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
	// A second down finds nothing: the key pending deletion is gone.
	r := h.mustRun(0, "plan", "--destroy")
	if strings.Contains(r.stdout, "kms/secrets") {
		t.Errorf("a key pending deletion is planned again:\n%s", r.stdout)
	}
}

// secrets.kms_key_id: the SecureStrings move to that key, the stack's own
// is retired (its deletion scheduled), and down leaves the given key alone.
func TestSecretsKeyOfOnesOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := kms.NewFromConfig(awsConfig(h.moto.URL))
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	onlyKey(t, h)

	made, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("the team's secrets")})
	must(t, err)
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/team-secrets"), TargetKeyId: made.KeyMetadata.KeyId})
	must(t, err)
	h.writeConfig(baseConfig + "secrets: {kms_key_id: alias/team-secrets}\n")
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"- kms/secrets", "not with alias/team-secrets", "~ logs/manager",
		"the lines written so far stay under the stack's key, whose deletion is scheduled: read or export them within 7 days"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, p.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	// Through the proxy, which stands in for the key calls moto lacks.
	logs := cloudwatchlogs.NewFromConfig(awsConfig(h.proxy.URL))
	if g := describeLogGroup(t, logs, "/provision/net/manager"); g.KmsKeyId != nil {
		t.Errorf("the log group is still under %s", aws.ToString(g.KmsKeyId))
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	wantParameterKeys(t, h, "alias/team-secrets")
	if left := h.liveKeys("net"); len(left) != 0 {
		t.Errorf("the stack's own key is still in use: %v", left)
	}
	if doc := managerPolicy(t, h); !strings.Contains(doc, "kms:ResourceAliases") || !strings.Contains(doc, "alias/team-secrets") {
		t.Errorf("manager policy does not name the given key: %s", doc)
	}

	// Back to a key of the stack's own: a new key, and the log group's new
	// lines under it.
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	own := onlyKey(t, h)
	if g := describeLogGroup(t, logs, "/provision/net/manager"); aws.ToString(g.KmsKeyId) != aws.ToString(own.Arn) {
		t.Errorf("the log group is under %q, want the stack's new key %s", aws.ToString(g.KmsKeyId), aws.ToString(own.Arn))
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.writeConfig(baseConfig + "secrets: {kms_key_id: alias/team-secrets}\n")
	h.mustRun(0, "up", "--auto-approve")

	h.mustRun(0, "down", "--auto-approve")
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: made.KeyMetadata.KeyId})
	must(t, err)
	if out.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
		t.Errorf("down touched the given key: %s", out.KeyMetadata.KeyState)
	}
	wantAlias(t, c, made.KeyMetadata.KeyId, false) // alias/provision/net: none
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// wantAlias checks whether alias/provision/net names the key.
func wantAlias(t *testing.T, c *kms.Client, keyID *string, want bool) {
	t.Helper()
	out, err := c.ListAliases(context.Background(), &kms.ListAliasesInput{KeyId: keyID})
	must(t, err)
	has := false
	for _, a := range out.Aliases {
		has = has || aws.ToString(a.AliasName) == "alias/provision/net"
	}
	if has != want {
		t.Errorf("alias/provision/net names %s: %v, want %v", aws.ToString(keyID), has, want)
	}
}

// A CreateKey that reached KMS is carried out even when its caller died
// before the answer: here it takes effect only after the next run has
// listed the keys once. That run waits for the lost call instead of
// making a second key, takes the late key, and the stack has one.
func TestSecretsKeyLateCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	var (
		mu      sync.Mutex
		lost    *http.Request
		body    []byte
		landed  atomic.Bool
		stolen  atomic.Bool
		landErr error
	)
	// The first CreateKey never reaches the emulator yet: provision is
	// killed while it waits for the answer.
	h.proxy.SetFault(func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		if action != "TrentService.CreateKey" || !stolen.CompareAndSwap(false, true) {
			return false, false
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		lost, body = r.Clone(context.Background()), b
		mu.Unlock()
		h.signal(syscall.SIGKILL)
		return true, false
	})
	if r := h.run("up", "--auto-approve"); r.code == 0 || !stolen.Load() {
		t.Fatalf("provision was not killed at CreateKey (exit %d)", r.code)
	}
	// It takes effect late: once the next run has listed the keys twice
	// and found none, or else just before that run's own CreateKey.
	land := func() {
		if !landed.CompareAndSwap(false, true) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		req, err := http.NewRequest(http.MethodPost, h.moto.URL+lost.URL.Path, bytes.NewReader(body))
		if err != nil {
			landErr = err
			return
		}
		req.Header = lost.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			landErr = err
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			landErr = fmt.Errorf("the late CreateKey: %s", resp.Status)
		}
	}
	var lists atomic.Int32
	h.proxy.SetFault(func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		if action == "TrentService.CreateKey" || (action == "TrentService.ListKeys" && lists.Add(1) > 2) {
			land()
		}
		return false, false
	})
	h.mustRun(0, "up", "--auto-approve")
	h.proxy.SetFault(nil)
	mu.Lock()
	err := landErr
	mu.Unlock()
	if !landed.Load() || err != nil {
		t.Fatalf("the lost CreateKey did not take effect: %v", err)
	}
	onlyKey(t, h)
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}
