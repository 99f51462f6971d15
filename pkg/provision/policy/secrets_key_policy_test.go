package policy

import (
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// kmsRequest is what KMS weighs a call by: who asks, for what, through
// which service, with which encryption context.
type kmsRequest struct {
	principal string // the role's ARN (aws:PrincipalArn)
	action    string
	via       string // kms:ViaService; "": called directly
	parameter string // the PARAMETER_ARN SSM passes; "": none
}

const (
	testManagerRole = "arn:aws:iam::123456789012:role/provision/ci-ap-northeast-1-manager"
	testOtherRole   = "arn:aws:iam::123456789012:role/someone-else"
	testSSM         = "ssm.ap-northeast-1.amazonaws.com"
	testTokenARN    = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-token"
	testSSHKeyARN   = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-ssh-key"
)

// allows evaluates the statements of a policy for a request, for the
// condition operators the stack's policies use. The emulator enforces
// neither key policies nor kms:ViaService nor the encryption context, so
// these tests are where the policies meet the requests SSM makes.
func allows(p PolicyDocument, r kmsRequest, principalMatches func(Statement) bool) bool {
	values := map[string]string{
		"kms:ViaService":                      r.via,
		"kms:EncryptionContext:PARAMETER_ARN": r.parameter,
		"aws:PrincipalArn":                    r.principal,
	}
	for _, s := range p.Statement {
		if s.Effect != "Allow" || !principalMatches(s) {
			continue
		}
		if !slices.ContainsFunc(s.Action, func(a string) bool { m, _ := path.Match(a, r.action); return m }) {
			continue
		}
		ok := true
		for op, conds := range s.Condition {
			for key, v := range conds {
				want, _ := v.(string)
				have, present := values[key]
				switch op {
				case "StringEquals", "ArnEquals":
					ok = ok && present && have == want
				case "StringLike":
					m, _ := path.Match(want, have)
					ok = ok && present && m
				default:
					ok = false
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// keyAllows is KMS's decision for the stack's key: its key policy allows
// the request, or its root statement lets IAM decide and the principal's
// IAM policy allows it.
func keyAllows(key PolicyDocument, iamOf map[string]PolicyDocument, r kmsRequest) bool {
	root := "arn:aws:iam::123456789012:root"
	direct := allows(key, r, func(s Statement) bool { return s.Principal["AWS"] == root && len(s.Condition) > 0 })
	delegated := allows(key, kmsRequest{action: r.action}, func(s Statement) bool { return s.Principal["AWS"] == root && len(s.Condition) == 0 })
	return direct || (delegated && allows(iamOf[r.principal], r, func(Statement) bool { return true }))
}

func TestSecretsKeyPolicy(t *testing.T) {
	key := SecretsKeyPolicy(testARNs, "ci-ap-northeast-1-manager", []string{"/provision/ci/runner-token"}, "/provision/ci/runner-ssh-key", "/provision/ci/runner-config", "/provision/ci/manager")
	// KMS's default statement, word for word: without it nobody could
	// manage the key any more.
	want := Statement{Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: map[string]string{"AWS": "arn:aws:iam::123456789012:root"},
		Action: []string{"kms:*"}, Resource: []string{"*"}}
	if !reflect.DeepEqual(key.Statement[0], want) {
		t.Errorf("first statement %+v, want the default one %+v", key.Statement[0], want)
	}
	if !SamePolicy(key.JSON(), key.JSON()) || !strings.Contains(key.JSON(), `"aws:PrincipalArn":"`+testManagerRole+`"`) {
		t.Errorf("key policy does not name the manager's role by aws:PrincipalArn: %s", key.JSON())
	}

	params := ManagerParameters{Tokens: []string{"/provision/ci/runner-token"}, Boot: "/provision/ci/manager-boot", SSHKey: "/provision/ci/runner-ssh-key",
		Config: "/provision/ci/runner-config", Key: SecretsKeyGrant{Resource: testKeyARN}}
	iamOf := map[string]PolicyDocument{testManagerRole: AutoscalerManagerPolicy(testARNs, "ci-runners*", params)}
	for _, c := range []struct {
		what string
		r    kmsRequest
		want bool
	}{
		{"the manager reads the token through SSM", kmsRequest{testManagerRole, "kms:Decrypt", testSSM, testTokenARN}, true},
		{"the manager writes back a renewed token", kmsRequest{testManagerRole, "kms:Encrypt", testSSM, testTokenARN}, true},
		{"the manager writes back an advanced-tier token", kmsRequest{testManagerRole, "kms:GenerateDataKey", testSSM, testTokenARN}, true},
		{"the manager reads the machines' key through SSM", kmsRequest{testManagerRole, "kms:Decrypt", testSSM, testSSHKeyARN}, true},
		{"the manager overwrites the machines' key", kmsRequest{testManagerRole, "kms:Encrypt", testSSM, testSSHKeyARN}, false},
		{"the manager reads the runner configuration through SSM", kmsRequest{testManagerRole, "kms:Decrypt", testSSM, "arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-config"}, true},
		{"the manager rewrites the runner configuration", kmsRequest{testManagerRole, "kms:Encrypt", testSSM, "arn:aws:ssm:ap-northeast-1:123456789012:parameter/provision/ci/runner-config"}, false},
		{"the manager decrypts directly", kmsRequest{testManagerRole, "kms:Decrypt", "", testTokenARN}, false},
		{"the manager decrypts through another service", kmsRequest{testManagerRole, "kms:Decrypt", "secretsmanager.ap-northeast-1.amazonaws.com", testTokenARN}, false},
		{"the manager decrypts another parameter", kmsRequest{testManagerRole, "kms:Decrypt", testSSM, "arn:aws:ssm:ap-northeast-1:123456789012:parameter/other"}, false},
		{"the manager decrypts in SSM of another region", kmsRequest{testManagerRole, "kms:Decrypt", "ssm.us-east-1.amazonaws.com", testTokenARN}, false},
		{"the manager schedules the key's deletion", kmsRequest{testManagerRole, "kms:ScheduleKeyDeletion", "", ""}, false},
		{"another role with ssm:GetParameter reads the token", kmsRequest{testOtherRole, "kms:Decrypt", testSSM, testTokenARN}, false},
	} {
		if got := keyAllows(key, iamOf, c.r); got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.what, got, c.want)
		}
	}
}

// The manager's own policy grants the key through SSM only, also without
// the key policy (a key of secrets.kms_key_id whose policy enables IAM).
func TestManagerKeyStatements(t *testing.T) {
	params := testParams
	params.SSHKey = "/provision/ci/runner-ssh-key"
	m := statementsBySid(t, AutoscalerManagerPolicy(testARNs, "ci-runners*", params))
	wantStatement(t, m, "DecryptTheMachinesKeyThroughSSM", []string{"kms:Decrypt"}, []string{testKeyARN},
		map[string]map[string]any{"StringEquals": {"kms:ViaService": testSSM, "kms:EncryptionContext:PARAMETER_ARN": testSSHKeyARN}})
	m = statementsBySid(t, DockerMachineManagerPolicy(testARNs, "ci", "ap-northeast-1a", "subnet-1", "sg-1", "r", "r", testParams, false))
	wantStatement(t, m, "UseTheSecretsKeyForTheToken", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, []string{testKeyARN},
		map[string]map[string]any{"StringEquals": {"kms:ViaService": testSSM, "kms:EncryptionContext:PARAMETER_ARN": testTokenARN}})

	// A key known by its alias only is named through kms:ResourceAliases.
	params.Key = SecretsKeyGrant{Resource: testARNs.KMSKey("*"), Alias: "alias/team-secrets"}
	m = statementsBySid(t, AutoscalerManagerPolicy(testARNs, "ci-runners*", params))
	wantStatement(t, m, "UseTheSecretsKeyForTheToken", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
		[]string{"arn:aws:kms:ap-northeast-1:123456789012:key/*"},
		map[string]map[string]any{"StringEquals": {"kms:ViaService": testSSM, "kms:EncryptionContext:PARAMETER_ARN": testTokenARN},
			"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team-secrets"}})
}
