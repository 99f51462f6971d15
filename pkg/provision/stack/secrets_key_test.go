package stack

import (
	"strings"
	"testing"

	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

func TestSecretsKeyGrantOfAGivenKey(t *testing.T) {
	for given, want := range map[string]policy.SecretsKeyGrant{
		"1234abcd-12ab-34cd-56ef-1234567890ab": {Resource: grantKeyARN},
		grantKeyARN:                            {Resource: grantKeyARN},
		"alias/team-secrets":                   {Resource: "arn:aws:kms:ap-northeast-1:123456789012:key/*", Alias: "alias/team-secrets"},
		"arn:aws:kms:ap-northeast-1:123456789012:alias/team-secrets":                       {Resource: "arn:aws:kms:ap-northeast-1:123456789012:key/*", Alias: "alias/team-secrets"},
		"arn:aws:kms:ap-northeast-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab": {Resource: "arn:aws:kms:ap-northeast-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"},
	} {
		e := &Env{Cfg: &config.Config{Stack: "ci", Secrets: config.SecretsConfig{KMSKeyID: given}}}
		if got := e.SecretsKeyGrantOf(grantARNs); got != want {
			t.Errorf("%s: grant %+v, want %+v", given, got, want)
		}
	}
}

func TestKMSKeyIDIsValidated(t *testing.T) {
	for given, ok := range map[string]bool{
		"":                                     true,
		"1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"alias/team-secrets":                   true,
		"arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"arn:aws:kms:ap-northeast-1:123456789012:alias/team-secrets":                       true,
		"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab":      false, // another region
		"alias/aws/ssm": false, // the account-wide key the stack's own replaces
		"arn:aws:kms:ap-northeast-1:123456789012:alias/aws/ssm": false,
		"team-secrets": false,
	} {
		cfg := config.Defaults()
		cfg.Stack, cfg.Region, cfg.Secrets.KMSKeyID = "ci", "ap-northeast-1", given
		var problems []string
		for _, p := range cfg.Validate() {
			if p.Key == "secrets.kms_key_id" {
				problems = append(problems, p.Msg)
			}
		}
		if (len(problems) == 0) != ok {
			t.Errorf("secrets.kms_key_id %q: problems %v, want ok=%v", given, problems, ok)
		}
	}
}

func TestUsableSecretsKey(t *testing.T) {
	ok := kmstypes.KeyMetadata{KeyManager: kmstypes.KeyManagerTypeCustomer, KeyState: kmstypes.KeyStateEnabled,
		KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt}
	for what, c := range map[string]struct {
		key  *stackKey
		want string
	}{
		"usable":      {&stackKey{meta: ok}, ""},
		"missing":     {nil, "does not exist in ap-northeast-1"},
		"aws managed": {&stackKey{meta: func() kmstypes.KeyMetadata { m := ok; m.KeyManager = kmstypes.KeyManagerTypeAws; return m }()}, "AWS managed key"},
		"asymmetric":  {&stackKey{meta: func() kmstypes.KeyMetadata { m := ok; m.KeySpec = kmstypes.KeySpecRsa2048; return m }()}, "symmetric keys"},
		"deletion":    {&stackKey{meta: func() kmstypes.KeyMetadata { m := ok; m.KeyState = kmstypes.KeyStatePendingDeletion; return m }()}, "is PendingDeletion: enable it (or cancel its deletion)"},
		"disabled":    {&stackKey{meta: func() kmstypes.KeyMetadata { m := ok; m.KeyState = kmstypes.KeyStateDisabled; return m }()}, "is Disabled"},
	} {
		err := usableSecretsKey("alias/team-secrets", "ap-northeast-1", c.key)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", what, err, c.want)
		}
	}
}

// grantARNs and grantKeyARN are an account's ARNs and a key of it.
var grantARNs = policy.ARNs{Partition: "aws", Region: "ap-northeast-1", Account: "123456789012"}

const grantKeyARN = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
