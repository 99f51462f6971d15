package stack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// secretsKeyKind is the stack's own KMS key, under which SSM encrypts the
// stack's SecureString parameters (the runner token, the machines' SSH
// key). Under the account's AWS managed key aws/ssm, any principal of the
// account allowed ssm:GetParameter on a parameter could read it, since
// that key's policy admits the whole account through SSM. This key admits
// the account's IAM policies (so that administrators keep managing it,
// and the operator policy of `provision iam-policy` applies) and the
// manager's role, through SSM and for these parameters only.
// secrets.kms_key_id replaces it with a key of one's own.
type secretsKeyKind struct{ env *Env }

// stackKey is one key found: its metadata, and its tags when the search
// read them.
type stackKey struct {
	meta kmstypes.KeyMetadata
	tags map[string]string
}

// secretsKeyFix is what update puts right: the alias names another key
// (or none), the key policy is not the stack's.
type secretsKeyFix struct{ alias, policy bool }

// keyDeletionWindow is the days KMS waits before it deletes a key down
// scheduled: the shortest KMS allows (7 to 30). Until then the key can be
// recovered with CancelKeyDeletion, and it costs nothing.
const keyDeletionWindow = 7

// lostKeyCreateSettles bounds how long a CreateKey that reached KMS takes
// to make its key (well under a second as a rule): after that, a search
// that finds no key means that the call made none.
const lostKeyCreateSettles = 10 * time.Second

func newSecretsKeyStep(env *Env) plan.Step {
	return resource.NewStep[*stackKey, secretsKeyFix](env.shared(), "kms-key", secretsKeyKind{env})
}

func (k secretsKeyKind) StepID() plan.ID  { return StepSecretsKey }
func (k secretsKeyKind) Needs() []plan.ID { return nil }

func (k secretsKeyKind) Describe() plan.Change {
	return plan.Change{Step: StepSecretsKey, Kind: "kms-key", Name: k.env.Names().SecretsKeyAlias(),
		Attrs: []plan.Attr{
			{Key: "type", Value: "symmetric, encrypt and decrypt"},
			{Key: "encrypts", Value: strings.Join(k.env.tokenParameters(), ", ") + ", " + k.env.Names().SSHKeyParameter() + ", " + k.env.Names().RunnerConfigParameter() + ", the log group " + k.env.Names().LogGroup()},
			{Key: "used by", Value: "the manager's role, through SSM only"},
		}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k secretsKeyKind) Hooks() resource.Hooks[*stackKey, secretsKeyFix] {
	return resource.Hooks[*stackKey, secretsKeyFix]{Tags: k.tagsOf, Retag: k.retag, ShownOnDelete: k.shownOnDelete}
}

// shownOnDelete: with down --keep-logs the key stays, as the kept lines
// are encrypted with it.
func (k secretsKeyKind) shownOnDelete(*stackKey) []string {
	if k.env.KeepLogs {
		return []string{"kept: the kept log lines are encrypted with it (down --keep-logs; $1 a month); the next up takes it up again"}
	}
	return []string{fmt.Sprintf("its deletion is scheduled, %d days ahead (aws kms cancel-key-deletion undoes it meanwhile)", keyDeletionWindow)}
}

// Find takes the recorded key while it is usable; else (the first run, a
// create whose answer was lost, a lost state file) it searches by tags.
func (k secretsKeyKind) Find(ctx context.Context) (resource.Found[*stackKey], error) {
	if arn := k.env.IDOf(StepSecretsKey); arn != "" {
		key, err := describeKey(ctx, k.env, arn)
		if err != nil {
			return resource.Found[*stackKey]{}, err
		}
		if key != nil && !keyGone(key.meta) {
			return resource.Found[*stackKey]{Cur: key, Exists: true}, nil
		}
	}
	keys, err := k.search(ctx)
	if err != nil {
		return resource.Found[*stackKey]{}, err
	}
	// CreateKey takes no client token and the key no unique name: a
	// CreateKey whose answer was lost may still make its key after this
	// search, and creating one now would leave two. Look again until the
	// lost call has surely finished.
	if age, lost := k.env.records().LostCreate(StepSecretsKey); len(keys) == 0 && lost && age >= 0 && age < lostKeyCreateSettles {
		return resource.Found[*stackKey]{}, plan.TryAgainf("%s: the CreateKey made %s ago by a run that ended before its answer came may still make its key; looking again until %s have passed",
			StepSecretsKey, age.Round(time.Second), lostKeyCreateSettles)
	}
	return lookupOwned(k.env, StepSecretsKey, keys, keyARN, func(*stackKey) bool { return true }), nil
}

// search finds the stack's usable keys by their tags. KMS filters keys by
// no tag, so every key of the region but the AWS managed ones (those the
// aliases under alias/aws/ name) is asked for its tags; a key whose tags
// the caller may not read is not the stack's (the operator policy allows
// ListResourceTags on the stack's keys only).
func (k secretsKeyKind) search(ctx context.Context) ([]*stackKey, error) {
	managed := map[string]bool{}
	aliases := kms.NewListAliasesPaginator(k.env.KMS, &kms.ListAliasesInput{})
	for aliases.HasMorePages() {
		page, err := aliases.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the KMS aliases in %s: %w", k.env.Region, err)
		}
		for _, a := range page.Aliases {
			if strings.HasPrefix(aws.ToString(a.AliasName), "alias/aws/") {
				managed[aws.ToString(a.TargetKeyId)] = true
			}
		}
	}
	var mine []*stackKey
	keys := kms.NewListKeysPaginator(k.env.KMS, &kms.ListKeysInput{})
	for keys.HasMorePages() {
		page, err := keys.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the KMS keys in %s: %w", k.env.Region, err)
		}
		for _, e := range page.Keys {
			id := aws.ToString(e.KeyId)
			if managed[id] {
				continue
			}
			tags, err := keyTags(ctx, k.env, id)
			if awsapi.IsNotFound(err) || awsapi.ErrorCode(err) == "AccessDeniedException" {
				continue
			}
			if err != nil {
				return nil, err
			}
			if tags[TagStack] != k.env.Cfg.Stack || tags[TagStep] != string(StepSecretsKey) {
				continue
			}
			key, err := describeKey(ctx, k.env, id)
			if err != nil {
				return nil, err
			}
			if key != nil && !keyGone(key.meta) {
				key.tags = tags
				mine = append(mine, key)
			}
		}
	}
	return mine, nil
}

func keyARN(k *stackKey) string { return aws.ToString(k.meta.Arn) }

func (k secretsKeyKind) Record(key *stackKey) resource.Recorded {
	return resource.Recorded{ID: keyARN(key), Attrs: map[string]string{string(AttrKeyID): aws.ToString(key.meta.KeyId), "alias": k.env.Names().SecretsKeyAlias()}}
}

// Diff checks the two things that decide who may use the key: its policy,
// and that the alias people know it by names it.
func (k secretsKeyKind) Diff(ctx context.Context, key *stackKey) (secretsKeyFix, []string, error) {
	var fix secretsKeyFix
	var reasons []string
	named, err := k.aliasNames(ctx, key)
	if err != nil {
		return fix, nil, err
	}
	if !slices.Contains(named, k.env.Names().SecretsKeyAlias()) {
		fix.alias = true
		reasons = append(reasons, k.env.Names().SecretsKeyAlias()+" does not name it: point the alias at it")
	}
	pol, err := k.env.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.meta.KeyId, PolicyName: aws.String("default")})
	if err != nil {
		return fix, nil, fmt.Errorf("read the key policy of %s: %w", keyARN(key), err)
	}
	if !policy.SamePolicy(aws.ToString(pol.Policy), k.policy().JSON()) {
		fix.policy = true
		reasons = append(reasons, "its key policy is not the stack's (the account's IAM policies, and the manager's role through SSM): put it back")
	}
	return fix, reasons, nil
}

// policy is the key policy (see secretsKeyPolicy).
func (k secretsKeyKind) policy() policy.PolicyDocument {
	e := k.env
	return policy.SecretsKeyPolicy(e.arns(), e.Names().IAM("manager"), e.tokenParameters(), e.Names().SSHKeyParameter(), e.Names().RunnerConfigParameter(), e.Names().LogGroup())
}

func (k secretsKeyKind) Create(ctx context.Context, _ string, _ resource.Found[*stackKey]) (*stackKey, secretsKeyFix, error) {
	tags := k.env.tagMap(StepSecretsKey, "secrets")
	out, err := k.env.KMS.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String(fmt.Sprintf("provision %s: encrypts the stack's SecureString parameters (runner token, machines' SSH key)", k.env.Cfg.Stack)),
		KeySpec:     kmstypes.KeySpecSymmetricDefault,
		KeyUsage:    kmstypes.KeyUsageTypeEncryptDecrypt,
		Policy:      aws.String(k.policy().JSON()),
		Tags:        kmsTags(tags),
	})
	if err != nil {
		return nil, secretsKeyFix{}, fmt.Errorf("create the KMS key of stack %s: %w", k.env.Cfg.Stack, err)
	}
	// The alias comes next, in update: a key without it is found by tags.
	return &stackKey{meta: *out.KeyMetadata, tags: tags}, secretsKeyFix{alias: true}, nil
}

func (k secretsKeyKind) Update(ctx context.Context, key *stackKey, fix secretsKeyFix) error {
	if fix.policy {
		if _, err := k.env.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.meta.KeyId, PolicyName: aws.String("default"), Policy: aws.String(k.policy().JSON())}); err != nil {
			return fmt.Errorf("put the key policy of %s: %w", keyARN(key), err)
		}
	}
	if fix.alias {
		return k.pointAlias(ctx, key)
	}
	return nil
}

// pointAlias makes the alias name the key. An alias that names another
// key (one of an earlier stack of this name whose deletion failed, say)
// is moved: deleted and made again, which takes no permission besides the
// ones on the alias and the keys.
func (k secretsKeyKind) pointAlias(ctx context.Context, key *stackKey) error {
	alias := k.env.Names().SecretsKeyAlias()
	in := &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: key.meta.KeyId}
	_, err := k.env.KMS.CreateAlias(ctx, in)
	if awsapi.ErrorCode(err) == "AlreadyExistsException" {
		if _, err := k.env.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("move %s to %s: %w", alias, keyARN(key), err)
		}
		_, err = k.env.KMS.CreateAlias(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("name %s %s: %w", keyARN(key), alias, err)
	}
	return nil
}

// Remove schedules the key's deletion, keyDeletionWindow days ahead: KMS
// deletes no key at once. The alias goes now, if it names this key, so
// that a stack of the same name made within the week can have it.
func (k secretsKeyKind) Remove(ctx context.Context, key *stackKey) error {
	if k.env.KeepLogs {
		return nil // the kept log group's lines are under it
	}
	named, err := k.aliasNames(ctx, key)
	if err != nil && !awsapi.IsNotFound(err) {
		return err
	}
	if alias := k.env.Names().SecretsKeyAlias(); slices.Contains(named, alias) {
		if _, err := k.env.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", alias, err)
		}
	}
	_, err = k.env.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.meta.KeyId, PendingWindowInDays: aws.Int32(keyDeletionWindow)})
	// KMSInvalidStateException: its deletion is scheduled already.
	if err != nil && !awsapi.IsNotFound(err) && awsapi.ErrorCode(err) != "KMSInvalidStateException" {
		return fmt.Errorf("schedule the deletion of KMS key %s: %w", keyARN(key), err)
	}
	return nil
}

func (k secretsKeyKind) tagsOf(ctx context.Context, key *stackKey) (map[string]string, error) {
	if key.tags != nil {
		return key.tags, nil
	}
	return keyTags(ctx, k.env, aws.ToString(key.meta.KeyId))
}

func (k secretsKeyKind) retag(ctx context.Context, key *stackKey, c resource.TagChange) error {
	if len(c.Set) > 0 {
		if _, err := k.env.KMS.TagResource(ctx, &kms.TagResourceInput{KeyId: key.meta.KeyId, Tags: kmsTags(c.Set)}); err != nil {
			return fmt.Errorf("tag %s: %w", keyARN(key), err)
		}
	}
	if len(c.Remove) > 0 {
		if _, err := k.env.KMS.UntagResource(ctx, &kms.UntagResourceInput{KeyId: key.meta.KeyId, TagKeys: c.Remove}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", keyARN(key), err)
		}
	}
	return nil
}

// aliasNames are the aliases that name the key.
func (k secretsKeyKind) aliasNames(ctx context.Context, key *stackKey) ([]string, error) {
	var names []string
	p := kms.NewListAliasesPaginator(k.env.KMS, &kms.ListAliasesInput{KeyId: key.meta.KeyId})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the aliases of %s: %w", keyARN(key), err)
		}
		for _, a := range page.Aliases {
			names = append(names, aws.ToString(a.AliasName))
		}
	}
	return names, nil
}

// describeKey returns the key, or nil when it does not exist.
func describeKey(ctx context.Context, e *Env, id string) (*stackKey, error) {
	out, err := e.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe KMS key %s: %w", id, err)
	}
	return &stackKey{meta: *out.KeyMetadata}, nil
}

// keyGone: a key whose deletion is scheduled cannot be used and never
// comes back by itself, so the stack counts it as gone.
func keyGone(m kmstypes.KeyMetadata) bool {
	return m.KeyState == kmstypes.KeyStatePendingDeletion || m.KeyState == kmstypes.KeyStatePendingReplicaDeletion
}

func keyTags(ctx context.Context, e *Env, id string) (map[string]string, error) {
	tags := map[string]string{}
	p := kms.NewListResourceTagsPaginator(e.KMS, &kms.ListResourceTagsInput{KeyId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the tags of KMS key %s: %w", id, err)
		}
		for k, v := range resource.TagMapOf(page.Tags, func(t kmstypes.Tag) (*string, *string) { return t.TagKey, t.TagValue }) {
			tags[k] = v
		}
	}
	return tags, nil
}

func kmsTags(m map[string]string) []kmstypes.Tag {
	return tagList(m, func(k, v string) kmstypes.Tag { return kmstypes.Tag{TagKey: aws.String(k), TagValue: aws.String(v)} })
}

// secretsKeyNeeds is what a step that puts a SecureString waits for: the
// stack's own key, when it makes one (a teardown removes the key after
// them).
func (e *Env) secretsKeyNeeds() []plan.ID {
	if e.Cfg.OwnSecretsKey() || e.Teardown {
		return []plan.ID{StepSecretsKey}
	}
	return nil
}

// secretsKeyID is the key SSM encrypts the stack's SecureStrings with, as
// PutParameter's KeyId: secrets.kms_key_id as given, else the ARN of the
// stack's own key ("" before it exists).
func (e *Env) secretsKeyID() string {
	if !e.Cfg.OwnSecretsKey() {
		return e.Cfg.Secrets.KMSKeyID
	}
	return e.IDOf(StepSecretsKey)
}

// secretsKeyGrant names the key in the manager's policy. Before the
// stack's own key exists (a plan) it stands in for it, so that the plan
// shows the policy changing; the policy is put after the key is made.
func (e *Env) secretsKeyGrant() policy.SecretsKeyGrant { return e.SecretsKeyGrantOf(e.arns()) }

// SecretsKeyGrantOf is secretsKeyGrant with ARNs of a (the operator
// policy's name no account).
func (e *Env) SecretsKeyGrantOf(a policy.ARNs) policy.SecretsKeyGrant {
	k := e.Cfg.Secrets.KMSKeyID
	switch {
	case e.Cfg.OwnSecretsKey():
		return policy.SecretsKeyGrant{Resource: or(e.IDOf(StepSecretsKey), a.KMSKey(knownAfterApply))}
	case strings.HasPrefix(k, "alias/"):
		return policy.SecretsKeyGrant{Resource: a.KMSKey("*"), Alias: k}
	case strings.HasPrefix(k, "arn:") && strings.Contains(k, ":alias/"):
		return policy.SecretsKeyGrant{Resource: a.KMSKey("*"), Alias: k[strings.Index(k, ":alias/")+1:]}
	case strings.HasPrefix(k, "arn:"):
		return policy.SecretsKeyGrant{Resource: k}
	}
	return policy.SecretsKeyGrant{Resource: a.KMSKey(k)}
}

// secretsKeyNames are the names a parameter's KeyId may have when it is
// under the right key (DescribeParameters hands back the KeyId it was
// given): nil while the stack's own key does not exist. A key of
// secrets.kms_key_id is checked here, once a run: it must exist and be
// usable by SSM.
func (e *Env) secretsKeyNames(ctx context.Context) ([]string, error) {
	if e.Cfg.OwnSecretsKey() {
		arn := e.IDOf(StepSecretsKey)
		if arn == "" {
			return nil, nil
		}
		return []string{arn, e.AttrOf(StepSecretsKey, AttrKeyID), e.Names().SecretsKeyAlias(), e.arns().KMSAlias(e.Names().SecretsKeyAlias())}, nil
	}
	given := e.Cfg.Secrets.KMSKeyID
	key, err := awsapi.SharedRead(ctx, e.reads, "kms-key|"+given, func(ctx context.Context) (*stackKey, error) { return describeKey(ctx, e, given) })
	if err != nil {
		return nil, fmt.Errorf("secrets.kms_key_id: %w", err)
	}
	if err := usableSecretsKey(given, e.Region, key); err != nil {
		return nil, err
	}
	names := []string{given, aws.ToString(key.meta.Arn), aws.ToString(key.meta.KeyId)}
	if i := strings.Index(given, ":alias/"); i >= 0 {
		names = append(names, given[i+1:])
	} else if strings.HasPrefix(given, "alias/") {
		names = append(names, e.arns().KMSAlias(given))
	}
	return names, nil
}

// CheckSecretsKey: a key of secrets.kms_key_id that SSM cannot use would
// fail the first PutParameter, after the network is built.
func (e *Env) CheckSecretsKey(ctx context.Context) error {
	if e.Cfg.OwnSecretsKey() {
		return nil
	}
	_, err := e.secretsKeyNames(ctx)
	return err
}

// usableSecretsKey checks a key of secrets.kms_key_id: one SSM can
// encrypt parameters with, and one the account manages itself.
func usableSecretsKey(given, region string, key *stackKey) error {
	if key == nil {
		return fmt.Errorf("secrets.kms_key_id %s does not exist in %s: give a key of the stack's region, or leave it empty for a key of the stack's own", given, region)
	}
	m := key.meta
	switch {
	case m.KeyManager == kmstypes.KeyManagerTypeAws:
		return fmt.Errorf("secrets.kms_key_id %s is an AWS managed key, whose key policy lets every principal of the account use it through SSM: give a customer managed key, or leave it empty for a key of the stack's own", given)
	// Unset: CreateKey's defaults (AWS always says; the emulator not).
	case (m.KeyUsage != "" && m.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt) || (m.KeySpec != "" && m.KeySpec != kmstypes.KeySpecSymmetricDefault):
		return fmt.Errorf("secrets.kms_key_id %s is a %s key for %s: SSM encrypts parameters with symmetric keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) only", given, m.KeySpec, m.KeyUsage)
	case m.KeyState != kmstypes.KeyStateEnabled:
		return fmt.Errorf("secrets.kms_key_id %s is %s: enable it (or cancel its deletion), or give another key", given, m.KeyState)
	}
	return nil
}
