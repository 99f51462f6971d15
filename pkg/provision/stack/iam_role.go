package stack

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

const inlinePolicyName = "provision"

// iamRoleKind owns a role, its inline policy and an instance profile of the
// same name.
type iamRoleKind struct {
	env  *Env
	id   plan.ID
	role string // manager | runner
}

// roleState is the role (nil: none) and whether its instance profile exists.
type roleState struct {
	role    *iamtypes.Role
	profile bool
}

// roleFix is what update must do.
type roleFix struct {
	putPolicy, createProfile, addToProfile, assumePolicy, boundary bool
}

func newIAMRoleStep(env *Env, manager bool) plan.Step {
	k := iamRoleKind{env: env, id: StepRunnerRole, role: "runner"}
	if manager {
		k = iamRoleKind{env: env, id: StepManagerRole, role: "manager"}
	}
	return resource.NewStep[roleState, roleFix](env.shared(), "iam-role", k)
}

func (k iamRoleKind) StepID() plan.ID { return k.id }
func (k iamRoleKind) Needs() []plan.ID {
	if k.role != "manager" {
		return nil
	}
	// The manager's policy names the stack's secrets key.
	needs := k.env.secretsKeyNeeds()
	if k.env.Cfg.Machines() || k.env.Teardown {
		// The docker+machine policy names the runner subnet, group and role.
		needs = append(needs, StepVPC, StepPrivateSubnet, StepRunnerGroup, StepRunnerRole)
	}
	return needs
}

// Hooks names the optional parts of resource.Step this kind has.
func (k iamRoleKind) Hooks() resource.Hooks[roleState, roleFix] {
	return resource.Hooks[roleState, roleFix]{FindForDelete: k.findForDelete, Tags: k.tagsOf, Retag: k.retag}
}

func (k iamRoleKind) name() string { return k.env.Names().IAM(k.role) }

// policy is the inline policy, or nil for a role without one.
func (k iamRoleKind) policy() *policy.PolicyDocument {
	if k.role != "manager" {
		return nil
	}
	e := k.env
	var p policy.PolicyDocument
	if e.Cfg.Autoscaler() {
		// Every generation's group: a replaced manager keeps scaling its
		// own while it drains.
		p = policy.AutoscalerManagerPolicy(e.arns(), e.Cfg.Stack, e.managerParameters())
	}
	if e.Cfg.Machines() {
		spot := slices.ContainsFunc(e.Cfg.FleetList(), func(f config.Fleet) bool { return !f.Autoscaler() && f.Spot })
		m := policy.DockerMachineManagerPolicy(e.arns(), e.Cfg.Stack, e.Zone, e.IDOf(StepPrivateSubnet), e.IDOf(StepRunnerGroup),
			e.Names().IAM("runner"), e.Names().IAM("runner"), e.managerParameters(), spot)
		p = policy.Merge(p, m)
	}
	return &p
}

func (k iamRoleKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "iam-role", Name: k.name(), Attrs: []plan.Attr{{Key: "instance_profile", Value: k.name()}}}
	if p := k.policy(); p != nil {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "policy", Value: fmt.Sprintf("%d statements", len(p.Statement))})
	}
	return c
}

func (k iamRoleKind) Find(ctx context.Context) (resource.Found[roleState], error) {
	role, err := k.getRole(ctx)
	return resource.Found[roleState]{Cur: roleState{role: role}, Exists: role != nil}, err
}

// findForDelete also finds a profile whose role is gone.
func (k iamRoleKind) findForDelete(ctx context.Context) (resource.Found[roleState], error) {
	role, err := k.getRole(ctx)
	if err != nil {
		return resource.Found[roleState]{}, err
	}
	_, perr := k.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(k.name())})
	if perr != nil && !awsapi.IsNotFound(perr) {
		return resource.Found[roleState]{}, fmt.Errorf("read instance profile %s: %w", k.name(), perr)
	}
	st := roleState{role: role, profile: perr == nil}
	return resource.Found[roleState]{Cur: st, Exists: role != nil || st.profile}, nil
}

func (k iamRoleKind) Record(st roleState) resource.Recorded {
	attrs := map[string]string{"instance_profile": k.name()}
	if st.role != nil {
		attrs["role_arn"] = aws.ToString(st.role.Arn)
		if b := st.role.PermissionsBoundary; b != nil {
			attrs[string(AttrBoundary)] = aws.ToString(b.PermissionsBoundaryArn)
		}
	}
	return resource.Recorded{ID: k.name(), Attrs: attrs}
}

func (k iamRoleKind) Diff(ctx context.Context, st roleState) (roleFix, []string, error) {
	var f roleFix
	var reasons []string
	if boundaryOf(st.role) != k.env.BoundaryARN() {
		f.boundary = true
		reasons = append(reasons, "set the permissions boundary "+BoundaryName(k.env.Cfg.Stack, k.env.Region))
	}
	if !policy.SamePolicy(aws.ToString(st.role.AssumeRolePolicyDocument), policy.EC2AssumeRolePolicy().JSON()) {
		f.assumePolicy = true
		reasons = append(reasons, "restore the trust policy (ec2.amazonaws.com)")
	}
	if want := k.policy(); want != nil {
		got, err := k.env.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(k.name()), PolicyName: aws.String(inlinePolicyName)})
		switch {
		case awsapi.IsNotFound(err):
			f.putPolicy = true
			reasons = append(reasons, "add the inline policy")
		case err != nil:
			return f, nil, fmt.Errorf("read the policy of role %s: %w", k.name(), err)
		case !policy.SamePolicy(aws.ToString(got.PolicyDocument), want.JSON()):
			f.putPolicy = true
			reasons = append(reasons, "restore the inline policy")
		}
	}
	prof, err := k.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(k.name())})
	switch {
	case awsapi.IsNotFound(err):
		f.createProfile, f.addToProfile = true, true
		reasons = append(reasons, "create the instance profile")
	case err != nil:
		return f, nil, fmt.Errorf("read instance profile %s: %w", k.name(), err)
	default:
		has := false
		for _, r := range prof.InstanceProfile.Roles {
			has = has || aws.ToString(r.RoleName) == k.name()
		}
		if !has {
			f.addToProfile = true
			reasons = append(reasons, "put the role into the instance profile")
		}
	}
	return f, reasons, nil
}

func (k iamRoleKind) tags() []iamtypes.Tag {
	var tags []iamtypes.Tag
	for key, v := range k.env.tagMap(k.id, k.role) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(key), Value: aws.String(v)})
	}
	return tags
}

// Create makes the role; the policy and the profile follow in update. The
// path is part of the role's ARN, which the policies name.
func (k iamRoleKind) Create(ctx context.Context, _ string, _ resource.Found[roleState]) (roleState, roleFix, error) {
	out, err := k.env.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(k.name()), Path: aws.String(policy.IAMPath), AssumeRolePolicyDocument: aws.String(policy.EC2AssumeRolePolicy().JSON()),
		PermissionsBoundary: aws.String(k.env.BoundaryARN()),
		Description:         aws.String(fmt.Sprintf("provision %s: runner %s", k.env.Cfg.Stack, k.role)), Tags: k.tags(),
	})
	fix := roleFix{putPolicy: k.policy() != nil, createProfile: true, addToProfile: true}
	switch {
	case err == nil:
		return roleState{role: out.Role}, fix, nil
	case awsapi.ErrorCode(err) == "EntityAlreadyExists":
		role, gerr := k.getRole(ctx)
		if gerr != nil || role == nil {
			return roleState{}, fix, awsapi.RetryableCreate(fmt.Errorf("create IAM role %s: %w", k.name(), err))
		}
		return roleState{role: role}, fix, nil
	default:
		return roleState{}, fix, fmt.Errorf("create IAM role %s: %w", k.name(), err)
	}
}

func (k iamRoleKind) Update(ctx context.Context, _ roleState, f roleFix) error {
	name := aws.String(k.name())
	// The boundary first: the operator policy lets the role's policy be
	// written only once the role has it.
	if f.boundary {
		if err := k.putBoundary(ctx); err != nil {
			return err
		}
	}
	if f.assumePolicy {
		if _, err := k.env.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(policy.EC2AssumeRolePolicy().JSON())}); err != nil {
			return fmt.Errorf("restore the trust policy of %s: %w", k.name(), err)
		}
	}
	if f.putPolicy {
		if _, err := k.env.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(inlinePolicyName), PolicyDocument: aws.String(k.policy().JSON())}); err != nil {
			return fmt.Errorf("put the inline policy of %s: %w", k.name(), err)
		}
	}
	if f.createProfile {
		_, err := k.env.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: name, Path: aws.String(policy.IAMPath), Tags: k.tags()})
		if err != nil && awsapi.ErrorCode(err) != "EntityAlreadyExists" {
			return fmt.Errorf("create instance profile %s: %w", k.name(), err)
		}
	}
	if f.addToProfile {
		_, err := k.env.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: name, RoleName: name})
		if err != nil && awsapi.ErrorCode(err) != "LimitExceeded" {
			return awsapi.RetryableCreate(fmt.Errorf("put role %s into its instance profile: %w", k.name(), err))
		}
	}
	return nil
}

// Remove takes the role out of the profile, deletes the profile, the
// policies and the role. DeleteConflict (an instance still uses the
// profile) means try again.
func (k iamRoleKind) Remove(ctx context.Context, st roleState) error {
	name := aws.String(k.name())
	// A role made before roles had a boundary gets it first: the operator
	// policy deletes and detaches a role's policies only under it.
	if st.role != nil && boundaryOf(st.role) != k.env.BoundaryARN() {
		if err := k.putBoundary(ctx); err != nil {
			return err
		}
	}
	prof, err := k.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: name})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("read instance profile %s: %w", k.name(), err)
	}
	if err == nil {
		// Only a role that is in the profile is taken out: a run that was
		// interrupted may have done it already.
		for _, r := range prof.InstanceProfile.Roles {
			_, err := k.env.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: name, RoleName: r.RoleName})
			if err != nil && !awsapi.IsNotFound(err) {
				return awsapi.RetryableDelete(fmt.Errorf("take role %s out of instance profile %s: %w", aws.ToString(r.RoleName), k.name(), err))
			}
		}
		if _, err := k.env.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: name}); err != nil && !awsapi.IsNotFound(err) {
			return awsapi.RetryableDelete(fmt.Errorf("delete instance profile %s: %w", k.name(), err))
		}
	}
	pols, err := k.env.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("list the policies of %s: %w", k.name(), err)
	}
	if err == nil {
		for _, p := range pols.PolicyNames {
			if _, err := k.env.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil && !awsapi.IsNotFound(err) {
				return fmt.Errorf("delete policy %s of %s: %w", p, k.name(), err)
			}
		}
	}
	// A managed policy someone attached (SSM access for debugging, say)
	// makes DeleteRole fail with DeleteConflict for as long as it stays:
	// detach it. The policy itself is not ours and stays.
	attached := iam.NewListAttachedRolePoliciesPaginator(k.env.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if awsapi.IsNotFound(err) {
			break
		}
		if err != nil {
			return fmt.Errorf("list the managed policies of %s: %w", k.name(), err)
		}
		for _, p := range page.AttachedPolicies {
			if _, err := k.env.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: p.PolicyArn}); err != nil && !awsapi.IsNotFound(err) {
				return fmt.Errorf("detach managed policy %s from %s: %w", aws.ToString(p.PolicyArn), k.name(), err)
			}
		}
	}
	if _, err := k.env.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete role %s: %w", k.name(), err))
	}
	return nil
}

// putBoundary sets the stack's permissions boundary on the role.
func (k iamRoleKind) putBoundary(ctx context.Context) error {
	_, err := k.env.IAM.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(k.name()), PermissionsBoundary: aws.String(k.env.BoundaryARN())})
	if err != nil {
		return fmt.Errorf("set the permissions boundary of role %s: %w", k.name(), err)
	}
	return nil
}

// boundaryOf is the ARN of a role's permissions boundary ("" for none).
func boundaryOf(r *iamtypes.Role) string {
	if r == nil || r.PermissionsBoundary == nil {
		return ""
	}
	return aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
}

// getRole returns the stack's role, nil when absent, and an error when a
// role of that name belongs to someone else.
func (k iamRoleKind) getRole(ctx context.Context) (*iamtypes.Role, error) {
	out, err := k.env.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(k.name())})
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read IAM role %s: %w", k.name(), err)
	}
	owner := ""
	for _, t := range out.Role.Tags {
		if aws.ToString(t.Key) == TagStack {
			owner = aws.ToString(t.Value)
		}
	}
	if owner != k.env.Cfg.Stack {
		return nil, fmt.Errorf("%s: an IAM role named %s exists that stack %s did not create: delete or rename it, or choose another stack name", k.id, k.name(), k.env.Cfg.Stack)
	}
	return out.Role, nil
}

// tagsOf: the role's tags (GetRole returns them).
func (k iamRoleKind) tagsOf(_ context.Context, r roleState) (map[string]string, error) {
	return resource.TagMapOf(r.role.Tags, func(t iamtypes.Tag) (*string, *string) { return t.Key, t.Value }), nil
}

// retag changes the tags of the role and of its instance profile alike
// (a profile that is not there yet gets its tags when it is created).
func (k iamRoleKind) retag(ctx context.Context, _ roleState, c resource.TagChange) error {
	name := aws.String(k.name())
	if len(c.Set) > 0 {
		var tags []iamtypes.Tag
		for key, v := range c.Set {
			tags = append(tags, iamtypes.Tag{Key: aws.String(key), Value: aws.String(v)})
		}
		if _, err := k.env.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: tags}); err != nil {
			return fmt.Errorf("tag role %s: %w", *name, err)
		}
		if _, err := k.env.IAM.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: name, Tags: tags}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("tag instance profile %s: %w", *name, err)
		}
	}
	if len(c.Remove) > 0 {
		if _, err := k.env.IAM.UntagRole(ctx, &iam.UntagRoleInput{RoleName: name, TagKeys: c.Remove}); err != nil {
			return fmt.Errorf("remove tags from role %s: %w", *name, err)
		}
		if _, err := k.env.IAM.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: name, TagKeys: c.Remove}); err != nil && !awsapi.IsNotFound(err) {
			return fmt.Errorf("remove tags from instance profile %s: %w", *name, err)
		}
	}
	return nil
}
