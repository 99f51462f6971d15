package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// spotServiceLinkedRole is the role EC2 needs to launch Spot instances
// for an account ("Service-linked role for Spot Instance requests" in the
// EC2 User Guide). AWS makes it on the first Spot request from the console
// or when the caller may iam:CreateServiceLinkedRole; docker-machine's
// RunInstances with the manager's least-privilege role may not, so in an
// account that never used Spot every machine request fails.
const spotServiceLinkedRole = "AWSServiceRoleForEC2Spot"

// checkSpotRole: docker+machine requests Spot machines itself.
func checkSpotRole(ctx context.Context, e *stack.Env) error {
	if e.Cfg.Runners.Executor != config.ExecutorDockerMachine || !e.Cfg.Runners.Spot {
		return nil
	}
	_, err := e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spotServiceLinkedRole)})
	switch {
	case err == nil:
		return nil
	case awsapi.IsNotFound(err):
		return fmt.Errorf("runners.spot with docker+machine needs the service-linked role %s, which this account does not have (it has never requested Spot instances), and the manager's role may not create it: create it once with `aws iam create-service-linked-role --aws-service-name spot.amazonaws.com`, or set runners.spot: false", spotServiceLinkedRole)
	default:
		return fmt.Errorf("check for the Spot service-linked role %s: %w", spotServiceLinkedRole, err)
	}
}

// autoScalingServiceLinkedRole is the role Auto Scaling launches
// instances as; it must be able to use the key their volumes are
// encrypted with.
func autoScalingServiceLinkedRole(e *stack.Env) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", e.Account.Partition, e.Account.Account)
}

// ebsKeyOperations are what the Auto Scaling role needs on a customer
// managed key ("Required AWS KMS key policy for use with encrypted
// volumes" in the EC2 Auto Scaling User Guide).
var ebsKeyOperations = []kmstypes.GrantOperation{
	kmstypes.GrantOperationEncrypt, kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationReEncryptFrom, kmstypes.GrantOperationReEncryptTo,
	kmstypes.GrantOperationGenerateDataKey, kmstypes.GrantOperationGenerateDataKeyWithoutPlaintext, kmstypes.GrantOperationDescribeKey, kmstypes.GrantOperationCreateGrant,
}

// checkDefaultEBSKey: the launch template asks for encrypted volumes
// without naming a key, so they use the account's default EBS key of the
// region. When that is a customer managed key, Auto Scaling can launch
// nothing until its service-linked role may use the key (by a grant or the
// key policy), and the group only records a failed launch activity: the
// fleet stays at zero while jobs wait.
func checkDefaultEBSKey(ctx context.Context, e *stack.Env) error {
	if !e.Cfg.Autoscaler() {
		return nil
	}
	out, err := e.EC2.GetEbsDefaultKmsKeyId(ctx, &ec2.GetEbsDefaultKmsKeyIdInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		// Reading the setting needs ec2:GetEbsDefaultKmsKeyId, which a
		// narrow deployment role may lack: say what could not be checked.
		// An answer that is no EC2 error at all (an endpoint without the
		// call, such as an emulator's) is worth a debug line only.
		msg := fmt.Sprintf("could not read the account's default EBS encryption key (%v); if it is a customer managed key, grant %s use of it or the runner machines will not launch", err, autoScalingServiceLinkedRole(e))
		if awsapi.ErrorCode(err) == "" {
			e.Log.Debug(msg)
		} else {
			e.Log.Warn(msg)
		}
		return nil
	}
	keyID := aws.ToString(out.KmsKeyId)
	if keyID == "" || keyID == "alias/aws/ebs" || strings.HasSuffix(keyID, ":alias/aws/ebs") {
		return nil
	}
	key, err := e.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return fmt.Errorf("the account's default EBS key is %s, and it cannot be read (%w): the runner machines' volumes are encrypted with it, so %s must be allowed to use it", keyID, err, autoScalingServiceLinkedRole(e))
	}
	if key.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeAws {
		return nil
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	role := autoScalingServiceLinkedRole(e)
	ok, err := keyAdmits(ctx, e, keyARN, role)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	ops := make([]string, len(ebsKeyOperations))
	for i, op := range ebsKeyOperations {
		ops[i] = string(op)
	}
	return fmt.Errorf("the account's default EBS key in %s is the customer managed key %s, and the Auto Scaling service-linked role may not use it: every runner machine launch would fail. Grant it with `aws kms create-grant --region %s --key-id %s --grantee-principal %s --operations %s`, or add that role to the key policy, or set the default EBS key back to alias/aws/ebs",
		e.Region, keyARN, e.Region, keyARN, role, strings.Join(ops, " "))
}

// keyAdmits reports whether a grant or the key policy names the role.
func keyAdmits(ctx context.Context, e *stack.Env, keyARN, role string) (bool, error) {
	grants := kms.NewListGrantsPaginator(e.KMS, &kms.ListGrantsInput{KeyId: aws.String(keyARN)})
	for grants.HasMorePages() {
		page, err := grants.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("list the grants of the default EBS key %s: %w", keyARN, err)
		}
		for _, g := range page.Grants {
			if aws.ToString(g.GranteePrincipal) == role && hasOperations(g.Operations, kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationCreateGrant) {
				return true, nil
			}
		}
	}
	pol, err := e.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(keyARN), PolicyName: aws.String("default")})
	var denied interface{ ErrorCode() string }
	switch {
	case err == nil:
		return strings.Contains(aws.ToString(pol.Policy), role), nil
	case errors.As(err, &denied) && denied.ErrorCode() == "AccessDeniedException":
		return false, nil
	default:
		return false, fmt.Errorf("read the policy of the default EBS key %s: %w", keyARN, err)
	}
}

func hasOperations(have []kmstypes.GrantOperation, want ...kmstypes.GrantOperation) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}
