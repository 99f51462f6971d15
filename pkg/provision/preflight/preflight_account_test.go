package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
)

const (
	ebsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// asgRole is the Auto Scaling service-linked role of the account.
	asgRole = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)

// defaultEBSKey makes keyID the account's default EBS key, one of manager.
func defaultEBSKey(a *account, keyID string, manager kmstypes.KeyManagerType) {
	a.c.EC2.GetEbsDefaultKmsKeyIdFn = func(context.Context, *ec2.GetEbsDefaultKmsKeyIdInput) (*ec2.GetEbsDefaultKmsKeyIdOutput, error) {
		return &ec2.GetEbsDefaultKmsKeyIdOutput{KmsKeyId: aws.String(keyID)}, nil
	}
	a.c.KMS.DescribeKeyFn = func(context.Context, *kms.DescribeKeyInput) (*kms.DescribeKeyOutput, error) {
		return &kms.DescribeKeyOutput{KeyMetadata: &kmstypes.KeyMetadata{Arn: aws.String(ebsKey), KeyManager: manager}}, nil
	}
}

// grants answers ListGrants with one page per element of pages.
func grants(a *account, pages ...[]kmstypes.GrantListEntry) {
	a.c.KMS.ListGrantsFn = func(_ context.Context, in *kms.ListGrantsInput) (*kms.ListGrantsOutput, error) {
		i := 0
		if m := aws.ToString(in.Marker); m != "" {
			i = int(m[0] - '0')
		}
		out := &kms.ListGrantsOutput{Grants: pages[i]}
		if i+1 < len(pages) {
			out.Truncated, out.NextMarker = true, aws.String(string(rune('0'+i+1)))
		}
		return out, nil
	}
}

func keyPolicy(a *account, policy string, err error) {
	a.c.KMS.GetKeyPolicyFn = func(context.Context, *kms.GetKeyPolicyInput) (*kms.GetKeyPolicyOutput, error) {
		if err != nil {
			return nil, err
		}
		return &kms.GetKeyPolicyOutput{Policy: aws.String(policy)}, nil
	}
}

var (
	fullGrant    = kmstypes.GrantListEntry{GranteePrincipal: aws.String(asgRole), Operations: ebsKeyOperations}
	decryptGrant = kmstypes.GrantListEntry{GranteePrincipal: aws.String(asgRole), Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}
	otherGrant   = kmstypes.GrantListEntry{GranteePrincipal: aws.String("arn:aws:iam::123456789012:role/other"), Operations: ebsKeyOperations}
)

// A customer managed default EBS key the Auto Scaling role may not use is a problem naming the grant.
func TestDefaultEBSKey(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*account)
		want  []string // parts of the one problem; nil: none
		warn  string   // part of the one warning; "": none
		reads []string // calls that must not be made
	}{
		{name: "none", reads: []string{"DescribeKey"}},
		{name: "alias/aws/ebs", setup: func(a *account) { defaultEBSKey(a, "alias/aws/ebs", "") }, reads: []string{"DescribeKey"}},
		{name: "alias ARN of aws/ebs", setup: func(a *account) {
			defaultEBSKey(a, "arn:aws:kms:eu-west-1:123456789012:alias/aws/ebs", "")
		}, reads: []string{"DescribeKey"}},
		{name: "AWS managed key", setup: func(a *account) { defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeAws) }, reads: []string{"ListGrants", "GetKeyPolicy"}},
		{name: "granted", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			grants(a, []kmstypes.GrantListEntry{otherGrant}, []kmstypes.GrantListEntry{fullGrant})
		}, reads: []string{"GetKeyPolicy"}},
		{name: "in the key policy", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			grants(a, []kmstypes.GrantListEntry{decryptGrant})
			keyPolicy(a, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"`+asgRole+`"},"Action":"kms:*"}]}`, nil)
		}},
		{name: "not granted", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			grants(a, []kmstypes.GrantListEntry{otherGrant, decryptGrant})
			keyPolicy(a, `{"Statement":[]}`, nil)
		}, want: []string{"default EBS key in eu-west-1 is the customer managed key " + ebsKey,
			"aws kms create-grant --region eu-west-1 --key-id " + ebsKey + " --grantee-principal " + asgRole +
				" --operations Encrypt Decrypt ReEncryptFrom ReEncryptTo GenerateDataKey GenerateDataKeyWithoutPlaintext DescribeKey CreateGrant"}},
		{name: "policy not readable", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			keyPolicy(a, "", apiError("AccessDeniedException"))
		}, want: []string{"the Auto Scaling service-linked role may not use it", "aws kms create-grant"}},
		{name: "policy read fails", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			keyPolicy(a, "", apiError("KMSInternalException"))
		}, want: []string{"read the policy of the default EBS key " + ebsKey, "KMSInternalException"}},
		{name: "grants not readable", setup: func(a *account) {
			defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
			a.c.KMS.ListGrantsFn = func(context.Context, *kms.ListGrantsInput) (*kms.ListGrantsOutput, error) {
				return nil, apiError("AccessDeniedException")
			}
		}, want: []string{"list the grants of the default EBS key " + ebsKey}},
		{name: "key not readable", setup: func(a *account) {
			defaultEBSKey(a, "alias/team-ebs", kmstypes.KeyManagerTypeCustomer)
			a.c.KMS.DescribeKeyFn = func(context.Context, *kms.DescribeKeyInput) (*kms.DescribeKeyOutput, error) {
				return nil, apiError("AccessDeniedException")
			}
		}, want: []string{"the account's default EBS key is alias/team-ebs, and it cannot be read", asgRole + " must be allowed to use it"}},
		{name: "setting not readable", setup: func(a *account) {
			a.c.EC2.GetEbsDefaultKmsKeyIdFn = func(context.Context, *ec2.GetEbsDefaultKmsKeyIdInput) (*ec2.GetEbsDefaultKmsKeyIdOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, warn: "could not read the account's default EBS encryption key", reads: []string{"DescribeKey"}},
		// An endpoint without the call (an emulator's) answers with no EC2
		// error at all: a debug line, not a warning on every up.
		{name: "call not implemented", setup: func(a *account) {
			a.c.EC2.GetEbsDefaultKmsKeyIdFn = func(context.Context, *ec2.GetEbsDefaultKmsKeyIdInput) (*ec2.GetEbsDefaultKmsKeyIdOutput, error) {
				return nil, errors.New("https response error StatusCode: 500, error while fetching xml error response code: XML syntax error")
			}
		}, reads: []string{"DescribeKey"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, nil)
			if c.setup != nil {
				c.setup(a)
			}
			problems := a.preflight(t)
			if c.want == nil && problems != nil {
				t.Fatalf("problems: %q", problems)
			}
			if c.want != nil {
				if len(problems) != 1 {
					t.Errorf("%d problems, want 1: %q", len(problems), problems)
				}
				oneContaining(t, problems, c.want...)
			}
			w := a.warnings()
			if c.warn == "" && len(w) > 0 || c.warn != "" && (len(w) != 1 || !strings.Contains(w[0], c.warn) || !strings.Contains(w[0], asgRole)) {
				t.Errorf("warnings %q, want one saying %q", w, c.warn)
			}
			for _, m := range c.reads {
				if a.called(m) {
					t.Errorf("called %s", m)
				}
			}
			for _, in := range awsfake.Inputs[*kms.ListGrantsInput](a.c, "ListGrants") {
				if aws.ToString(in.KeyId) != ebsKey {
					t.Errorf("grants listed of %s, want the key's ARN", aws.ToString(in.KeyId))
				}
			}
			a.noWrites(t)
		})
	}
}

// docker+machine launches no Auto Scaling group, so the default EBS key is not read.
func TestDefaultEBSKeyOnlyForTheAutoscaler(t *testing.T) {
	a := newAccount(t, func(c *config.Config) { c.Runners.Executor = config.ExecutorDockerMachine })
	defaultEBSKey(a, ebsKey, kmstypes.KeyManagerTypeCustomer)
	if problems := a.preflight(t); problems != nil {
		t.Fatal(problems)
	}
	if a.called("GetEbsDefaultKmsKeyId") {
		t.Error("the default EBS key was read for docker+machine")
	}
}

// Only docker+machine with Spot needs (and asks for) the Spot service-linked role.
func TestSpotRole(t *testing.T) {
	cases := []struct {
		name     string
		executor string
		spot     bool
		role     error // GetRole's error
		asked    bool
		want     string // part of the one problem; "": none
	}{
		{"docker+machine spot, role exists", config.ExecutorDockerMachine, true, nil, true, ""},
		{"docker+machine spot, no role", config.ExecutorDockerMachine, true, apiError("NoSuchEntity"), true, "needs the service-linked role AWSServiceRoleForEC2Spot"},
		{"docker+machine spot, role unreadable", config.ExecutorDockerMachine, true, apiError("AccessDenied"), true, "check for the Spot service-linked role AWSServiceRoleForEC2Spot"},
		{"docker+machine on demand", config.ExecutorDockerMachine, false, apiError("NoSuchEntity"), false, ""},
		{"docker-autoscaler spot", config.ExecutorDockerAutoscaler, true, apiError("NoSuchEntity"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, func(cfg *config.Config) { cfg.Runners.Executor, cfg.Runners.Spot = c.executor, c.spot })
			a.c.IAM.GetRoleFn = func(_ context.Context, in *iam.GetRoleInput) (*iam.GetRoleOutput, error) {
				if aws.ToString(in.RoleName) != "AWSServiceRoleForEC2Spot" {
					t.Errorf("GetRole %s", aws.ToString(in.RoleName))
				}
				return &iam.GetRoleOutput{}, c.role
			}
			problems := a.preflight(t)
			if c.want == "" && problems != nil {
				t.Fatal(problems)
			}
			if c.want != "" {
				oneContaining(t, problems, c.want)
			}
			if a.called("GetRole") != c.asked {
				t.Errorf("asked for the Spot role: %v, want %v", a.called("GetRole"), c.asked)
			}
		})
	}
}
