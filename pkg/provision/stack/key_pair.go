package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// keyPairKind is the EC2 key pair the runner machines boot with (the launch
// template names it): the public half of the key in ssm/ssh-key, imported.
// EC2 puts it in ec2-user's authorized_keys at first boot, so the manager
// connects with the private half from the first second.
type keyPairKind struct{ env *Env }

type keyPairInfo = *ec2types.KeyPairInfo

// keyPairFix: the pair no longer matches the private key and is imported
// again.
type keyPairFix struct{ reimport bool }

func newKeyPairStep(env *Env) plan.Step {
	return resource.NewStep[keyPairInfo, keyPairFix](env.shared(), "key-pair", keyPairKind{env})
}

func (k keyPairKind) StepID() plan.ID  { return StepKeyPair }
func (k keyPairKind) Needs() []plan.ID { return []plan.ID{StepSSHKey} }

func (k keyPairKind) Describe() plan.Change {
	return plan.Change{Step: StepKeyPair, Kind: "key-pair", Name: k.env.Names().KeyPairName(),
		Attrs: []plan.Attr{{Key: "type", Value: k.env.sshKeyType()}, {Key: "public key", Value: "from " + k.env.Names().SSHKeyParameter()}}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k keyPairKind) Hooks() resource.Hooks[keyPairInfo, keyPairFix] {
	return resource.Hooks[keyPairInfo, keyPairFix]{Replaces: k.replaces, EC2Tags: k.ec2TagsOf}
}

func (k keyPairKind) Find(ctx context.Context) (resource.Found[keyPairInfo], error) {
	out, err := k.env.EC2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: k.env.ownerFilters(StepKeyPair), IncludePublicKey: aws.Bool(true)})
	if err != nil {
		return resource.Found[keyPairInfo]{}, fmt.Errorf("find key pair %s by tags: %w", k.env.Names().KeyPairName(), err)
	}
	return lookupOwned(k.env, StepKeyPair, resource.Pointers(out.KeyPairs), keyPairID, func(p keyPairInfo) bool { return k.env.ownedBy(p.Tags, StepKeyPair) }), nil
}

func keyPairID(p keyPairInfo) string { return aws.ToString(p.KeyPairId) }

func (k keyPairKind) Record(p keyPairInfo) resource.Recorded {
	return resource.Recorded{ID: keyPairID(p), Attrs: map[string]string{"name": aws.ToString(p.KeyName)}}
}

func (k keyPairKind) ec2TagsOf(p keyPairInfo) []ec2types.Tag { return p.Tags }

// Diff compares the pair's public key with the private key's; a pair
// cannot be changed, so a mismatch (a new private key) replaces it.
func (k keyPairKind) Diff(ctx context.Context, p keyPairInfo) (keyPairFix, []string, error) {
	want, err := k.publicKey(ctx)
	if err != nil || want == "" || p.PublicKey == nil {
		return keyPairFix{}, nil, err
	}
	if keyBody(aws.ToString(p.PublicKey)) != keyBody(want) {
		return keyPairFix{reimport: true}, []string{"its public key is not the one of " + k.env.Names().SSHKeyParameter()}, nil
	}
	return keyPairFix{}, nil, nil
}

func (k keyPairKind) replaces(f keyPairFix) bool { return f.reimport }

func (k keyPairKind) Create(ctx context.Context, _ string, prior resource.Found[keyPairInfo]) (keyPairInfo, keyPairFix, error) {
	public, err := k.publicKey(ctx)
	if err != nil {
		return nil, keyPairFix{}, err
	}
	if public == "" {
		return nil, keyPairFix{}, plan.TryAgain(fmt.Errorf("%s does not exist yet", k.env.Names().SSHKeyParameter()))
	}
	out, err := k.env.EC2.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName:           aws.String(k.env.Names().KeyPairName()),
		PublicKeyMaterial: []byte(public),
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeKeyPair, StepKeyPair, "runner"),
	})
	if awsapi.ErrorCode(err) == "InvalidKeyPair.Duplicate" {
		return nil, keyPairFix{}, fmt.Errorf("%s: a key pair named %s already exists that stack %s did not make: delete it, or choose another stack name", StepKeyPair, k.env.Names().KeyPairName(), k.env.Cfg.Stack)
	}
	if err != nil {
		return nil, keyPairFix{}, fmt.Errorf("import key pair %s: %w", k.env.Names().KeyPairName(), err)
	}
	return &ec2types.KeyPairInfo{KeyPairId: out.KeyPairId, KeyName: out.KeyName, Tags: out.Tags}, keyPairFix{}, nil
}

func (k keyPairKind) Update(context.Context, keyPairInfo, keyPairFix) error { return nil }

// Remove deletes the pair by its name (found by the stack's tags, so
// ours); the name is what every EC2 implementation takes (the emulator
// ignores KeyPairId).
func (k keyPairKind) Remove(ctx context.Context, p keyPairInfo) error {
	_, err := k.env.EC2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: p.KeyName})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("delete key pair %s: %w", aws.ToString(p.KeyName), err)
	}
	return nil
}

// publicKey derives the public key from the parameter ("" while it is
// missing).
func (k keyPairKind) publicKey(ctx context.Context) (string, error) {
	p, err := k.env.StackParameter(ctx, k.env.Names().SSHKeyParameter())
	if err != nil || p == nil || p.Value == nil {
		return "", err
	}
	return publicKeyOf(aws.ToString(p.Value))
}

// keyBody is the key itself of an authorized_keys line, without the
// comment EC2 may append.
func keyBody(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	return f[0] + " " + f[1]
}
