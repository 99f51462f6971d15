package stack

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/crypto/ssh"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// runnerSSHKeyKind keeps the private half of the machines' SSH key pair in an
// SSM SecureString parameter (runners.ssh_keys: static). The manager reads
// it at boot into a root-only file that config.toml names as the
// connector's key_path, with use_static_credentials: every machine of the
// group already carries the public half (the launch template's key pair),
// so no key is pushed through EC2 Instance Connect per machine, which
// costs 30-35 s of each cold start against 2-3 s (GitLab issue 408131).
// The key is made here, on the machine running provision, and never
// printed, logged or written to the state.
type runnerSSHKeyKind struct{ env *Env }

// sshKeyFix: the parameter does not hold a usable key and is written anew
// (regenerate), or holds one under another KMS key than the stack's
// secrets key and is written again with it (reencrypt).
type sshKeyFix struct{ regenerate, reencrypt bool }

func newRunnerSSHKeyStep(env *Env) plan.Step {
	return resource.NewStep[parameter, sshKeyFix](env.shared(), "ssm-parameter", runnerSSHKeyKind{env})
}

func (k runnerSSHKeyKind) StepID() plan.ID  { return StepSSHKey }
func (k runnerSSHKeyKind) Needs() []plan.ID { return k.env.secretsKeyNeeds() }

func (k runnerSSHKeyKind) Describe() plan.Change {
	return plan.Change{Step: StepSSHKey, Kind: "ssm-parameter", Name: k.env.Names().SSHKeyParameter(),
		Attrs: []plan.Attr{{Key: "type", Value: "SecureString"}, {Key: "value", Value: "a new " + k.env.sshKeyType() + " private key (hidden)"}}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k runnerSSHKeyKind) Hooks() resource.Hooks[parameter, sshKeyFix] {
	return resource.Hooks[parameter, sshKeyFix]{Tags: k.tagsOf, Retag: k.retag}
}

func (k runnerSSHKeyKind) Find(ctx context.Context) (resource.Found[parameter], error) {
	p, err := k.env.StackParameter(ctx, k.env.Names().SSHKeyParameter())
	return resource.Found[parameter]{Cur: p, Exists: p != nil}, err
}

func (k runnerSSHKeyKind) Record(p parameter) resource.Recorded {
	return resource.Recorded{ID: aws.ToString(p.Name)}
}

func (k runnerSSHKeyKind) Diff(ctx context.Context, p parameter) (sshKeyFix, []string, error) {
	if p.Value == nil {
		return sshKeyFix{}, nil, nil // created in this run: not read back
	}
	public, err := publicKeyOf(aws.ToString(p.Value))
	if err != nil || p.Type != ssmtypes.ParameterTypeSecureString {
		return sshKeyFix{regenerate: true}, []string{"it does not hold a private key as a SecureString: a new key is made (and the key pair follows)"}, nil
	}
	if k.env.Cfg.WindowsFleets() && !strings.HasPrefix(public, "ssh-rsa ") {
		return sshKeyFix{regenerate: true}, []string{"a Windows fleet needs an RSA key (EC2 encrypts a Windows machine's password with an RSA key pair only): a new key is made (and the key pair follows)"}, nil
	}
	reason, err := keyDrift(ctx, k.env, k.env.Names().SSHKeyParameter())
	if err != nil || reason == "" {
		return sshKeyFix{}, nil, err
	}
	return sshKeyFix{reencrypt: true}, []string{reason}, nil
}

func (k runnerSSHKeyKind) Create(ctx context.Context, _ string, _ resource.Found[parameter]) (parameter, sshKeyFix, error) {
	p, err := k.putNew(ctx, false)
	return p, sshKeyFix{}, err
}

func (k runnerSSHKeyKind) Update(ctx context.Context, p parameter, f sshKeyFix) error {
	switch {
	case f.regenerate:
		_, err := k.putNew(ctx, true)
		return err
	case f.reencrypt:
		// The same key, so the key pair and the manager stay.
		_, err := k.put(ctx, aws.ToString(p.Value), true)
		return err
	}
	return nil
}

// putNew writes a new key.
func (k runnerSSHKeyKind) putNew(ctx context.Context, overwrite bool) (parameter, error) {
	private, err := newPrivateKey(k.env.Cfg.WindowsFleets())
	if err != nil {
		return nil, err
	}
	return k.put(ctx, private, overwrite)
}

// put writes a key under the stack's secrets key. A create whose answer
// was lost finds the parameter on its next attempt
// (ParameterAlreadyExists), which then is the key.
func (k runnerSSHKeyKind) put(ctx context.Context, private string, overwrite bool) (parameter, error) {
	key, err := k.env.secretsKeyForPut()
	if err != nil {
		return nil, err
	}
	name := k.env.Names().SSHKeyParameter()
	in := &ssm.PutParameterInput{
		Name:        aws.String(name),
		Value:       aws.String(private),
		Type:        ssmtypes.ParameterTypeSecureString,
		KeyId:       aws.String(key),
		Description: aws.String(fmt.Sprintf("provision %s: private SSH key of the runner machines (read by the manager)", k.env.Cfg.Stack)),
		Overwrite:   aws.Bool(overwrite),
	}
	if !overwrite {
		in.Tags = ssmTags(k.env.tagMap(StepSSHKey, "runner-ssh-key"))
	}
	if _, err := k.env.SSM.PutParameter(ctx, in); err != nil && awsapi.ErrorCode(err) != "ParameterAlreadyExists" {
		return nil, fmt.Errorf("store the runner machines' SSH key in %s: %w", name, err)
	}
	return &ssmtypes.Parameter{Name: aws.String(name)}, nil
}

func (k runnerSSHKeyKind) Remove(ctx context.Context, p parameter) error {
	return DeleteParameter(ctx, k.env.SSM, aws.ToString(p.Name))
}

func (k runnerSSHKeyKind) tagsOf(ctx context.Context, p parameter) (map[string]string, error) {
	return parameterTags(ctx, k.env, p)
}

func (k runnerSSHKeyKind) retag(ctx context.Context, p parameter, c resource.TagChange) error {
	return retagParameter(ctx, k.env, p, c)
}

// sshKeyType is the type of the machines' key: RSA with a Windows fleet.
func (e *Env) sshKeyType() string {
	if e.Cfg.WindowsFleets() {
		return "RSA"
	}
	return "ed25519"
}

// newPrivateKey makes an ed25519 key in OpenSSH's private key format, the
// format gitlab-runner's connector reads from key_path (x/crypto/ssh's
// ParsePrivateKey). EC2 key pairs take ed25519 for Linux instances. With
// a Windows fleet (rsa) it is RSA, PKCS #1 PEM: EC2 encrypts a Windows
// machine's Administrator password with the instance's key pair, which
// must be RSA for Windows ("Create a key pair" in the EC2 user guide), and
// the AWS fleeting plugin decrypts it with the key at key_path; the SSH
// connector of the Linux fleets reads that format too.
func newPrivateKey(rsaKey bool) (string, error) {
	if rsaKey {
		key, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			return "", fmt.Errorf("make an SSH key: %w", err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), nil
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("make an SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return "", fmt.Errorf("encode the SSH key: %w", err)
	}
	return string(pem.EncodeToMemory(block)), nil
}

// publicKeyOf is the authorized_keys line ("ssh-ed25519 AAAA...") of a
// private key, what ImportKeyPair takes and DescribeKeyPairs returns.
func publicKeyOf(private string) (string, error) {
	signer, err := ssh.ParsePrivateKey([]byte(private))
	if err != nil {
		return "", fmt.Errorf("the parameter does not hold an SSH private key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}
