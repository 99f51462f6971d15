package ops

import (
	"reflect"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// The operator policy: the key's actions on the stack's tagged keys only,
// CreateKey only with the stack's tag, its use through SSM only.
func TestToolPolicyItsKey(t *testing.T) {
	cfg := config.Defaults()
	cfg.Stack, cfg.Region = "ci", "ap-northeast-1"
	m := map[string]policy.Statement{}
	for _, s := range ToolPolicy(&cfg).Statement {
		m[s.Sid] = s
	}
	tagged := map[string]any{"aws:ResourceTag/provision:stack": "ci"}
	keys := []string{"arn:aws:kms:ap-northeast-1:*:key/*"}
	wantAllow(t, m, "Key", secretsKeyActions, keys, map[string]map[string]any{"StringEquals": tagged})
	wantAllow(t, m, "CreateKey", []string{"kms:CreateKey", "kms:TagResource"}, []string{"*"},
		map[string]map[string]any{"StringEquals": {"aws:RequestTag/provision:stack": "ci"}})
	wantAllow(t, m, "KeyAlias", []string{"kms:CreateAlias", "kms:DeleteAlias"}, []string{"arn:aws:kms:ap-northeast-1:*:alias/provision/ci"}, nil)
	wantAllow(t, m, "KeyViaSSM", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, keys,
		map[string]map[string]any{"StringEquals": tagged, "StringLike": {"kms:ViaService": "ssm.ap-northeast-1.amazonaws.com*",
			"kms:EncryptionContext:PARAMETER_ARN": "arn:aws:ssm:ap-northeast-1:*:parameter/provision/ci/*"}})
	wantAllow(t, m, "FindKey", []string{"kms:ListAliases", "kms:ListKeys", "ssm:DescribeParameters"}, []string{"*"}, nil)
	if _, ok := m["GivenKeyViaSSM"]; ok {
		t.Errorf("a statement for secrets.kms_key_id without one")
	}
	// No kms: write on every key of the account without a condition.
	for _, s := range ToolPolicy(&cfg).Statement {
		for _, a := range s.Action {
			if strings.HasPrefix(a, "kms:") && !strings.HasPrefix(a, "kms:List") && !strings.HasPrefix(a, "kms:Describe") && !strings.HasPrefix(a, "kms:Get") &&
				s.Condition == nil && !strings.Contains(s.Resource[0], ":alias/") {
				t.Errorf("%s: %s without a condition", s.Sid, a)
			}
		}
	}

	cfg.Secrets.KMSKeyID = "alias/team-secrets"
	m = map[string]policy.Statement{}
	for _, s := range ToolPolicy(&cfg).Statement {
		m[s.Sid] = s
	}
	wantAllow(t, m, "GivenKeyViaSSM", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, keys,
		map[string]map[string]any{"StringLike": {"kms:ViaService": "ssm.ap-northeast-1.amazonaws.com*"},
			"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team-secrets"}})
}

// wantAllow checks that the statement sid allows exactly these actions on
// these resources under this condition.
func wantAllow(t *testing.T, m map[string]policy.Statement, sid string, actions, resources []string, cond map[string]map[string]any) {
	t.Helper()
	want := policy.Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources, Condition: cond}
	if got, ok := m[sid]; !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("statement %s:\n got  %+v\n want %+v", sid, got, want)
	}
}
