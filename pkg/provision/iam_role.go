package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/provision-dev/provision/pkg/plan"
)

const inlinePolicyName = "provision"

// iamRoleStep owns a role, its inline policy and an instance profile of
// the same name.
type iamRoleStep struct {
	env  *Env
	id   plan.ID
	role string // manager | runner
}

func newIAMRoleStep(env *Env, manager bool) *iamRoleStep {
	if manager {
		return &iamRoleStep{env: env, id: stepManagerRole, role: "manager"}
	}
	return &iamRoleStep{env: env, id: stepRunnerRole, role: "runner"}
}

func (s *iamRoleStep) ID() plan.ID { return s.id }
func (s *iamRoleStep) DependsOn() []plan.ID {
	if s.role == "manager" && (!s.env.autoscaler() || s.env.Teardown) {
		// The docker+machine policy names the runner subnet, group and role.
		return []plan.ID{stepVPC, stepPrivateSubnet, stepRunnerGroup, stepRunnerRole}
	}
	return nil
}

func (s *iamRoleStep) name() string { return s.env.iamName(s.role) }

// policy is the inline policy, or nil for a role without one.
func (s *iamRoleStep) policy() *PolicyDocument {
	if s.role != "manager" {
		return nil
	}
	e := s.env
	var p PolicyDocument
	if e.autoscaler() {
		p = autoscalerManagerPolicy(e.arns(), e.AutoScalingGroupName(), e.TokenParameter())
	} else {
		p = dockerMachineManagerPolicy(e.arns(), e.Cfg.Stack, e.Zone, e.idOf(stepPrivateSubnet), e.idOf(stepRunnerGroup),
			e.iamName("runner"), e.iamName("runner"), e.TokenParameter(), e.Cfg.Runners.Spot)
	}
	return &p
}

func (s *iamRoleStep) change() plan.Change {
	c := plan.Change{Step: s.id, Kind: "iam-role", Name: s.name(), Attrs: []plan.Attr{{Key: "instance_profile", Value: s.name()}}}
	if p := s.policy(); p != nil {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "policy", Value: fmt.Sprintf("%d statements", len(p.Statement))})
	}
	return c
}

// roleFixes is what Apply must do.
type roleFixes struct {
	createRole, putPolicy, createProfile, addToProfile, assumePolicy bool
}

func (s *iamRoleStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	f := &roleFixes{}
	role, err := s.getRole(ctx)
	if err != nil {
		return c, err
	}
	if role == nil {
		c.Action = plan.Create
		c.Detail = &roleFixes{createRole: true, putPolicy: s.policy() != nil, createProfile: true, addToProfile: true}
		return c, s.env.markGone(s.id)
	}
	c.ID = s.name()
	if !samePolicy(aws.ToString(role.AssumeRolePolicyDocument), ec2AssumeRolePolicy().JSON()) {
		f.assumePolicy = true
		c.Reasons = append(c.Reasons, "restore the trust policy (ec2.amazonaws.com)")
	}
	if want := s.policy(); want != nil {
		got, err := s.env.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(s.name()), PolicyName: aws.String(inlinePolicyName)})
		switch {
		case isNotFound(err):
			f.putPolicy = true
			c.Reasons = append(c.Reasons, "add the inline policy")
		case err != nil:
			return c, fmt.Errorf("read the policy of role %s: %w", s.name(), err)
		case !samePolicy(aws.ToString(got.PolicyDocument), want.JSON()):
			f.putPolicy = true
			c.Reasons = append(c.Reasons, "restore the inline policy")
		}
	}
	prof, err := s.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(s.name())})
	switch {
	case isNotFound(err):
		f.createProfile, f.addToProfile = true, true
		c.Reasons = append(c.Reasons, "create the instance profile")
	case err != nil:
		return c, fmt.Errorf("read instance profile %s: %w", s.name(), err)
	default:
		has := false
		for _, r := range prof.InstanceProfile.Roles {
			has = has || aws.ToString(r.RoleName) == s.name()
		}
		if !has {
			f.addToProfile = true
			c.Reasons = append(c.Reasons, "put the role into the instance profile")
		}
	}
	if err := s.env.created(s.id, "iam-role", s.name(), map[string]string{"role_arn": aws.ToString(role.Arn), "instance_profile": s.name()}); err != nil {
		return c, err
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

func (s *iamRoleStep) Apply(ctx context.Context, c plan.Change) error {
	f := c.Detail.(*roleFixes)
	name := aws.String(s.name())
	var tags []iamtypes.Tag
	for k, v := range s.env.tagMap(s.id, s.role) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	roleARN := s.env.attrOf(s.id, "role_arn")
	if f.createRole {
		out, err := s.env.IAM.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: name, Path: aws.String(iamPath), AssumeRolePolicyDocument: aws.String(ec2AssumeRolePolicy().JSON()),
			Description: aws.String(fmt.Sprintf("provision %s: runner %s", s.env.Cfg.Stack, s.role)), Tags: tags,
		})
		if err != nil && errorCode(err) != "EntityAlreadyExists" {
			return fmt.Errorf("create IAM role %s: %w", s.name(), err)
		}
		if err == nil {
			roleARN = aws.ToString(out.Role.Arn)
		}
		if err := s.env.created(s.id, "iam-role", s.name(), map[string]string{"role_arn": roleARN, "instance_profile": s.name()}); err != nil {
			return err
		}
	}
	if f.assumePolicy {
		if _, err := s.env.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: aws.String(ec2AssumeRolePolicy().JSON())}); err != nil {
			return fmt.Errorf("restore the trust policy of %s: %w", s.name(), err)
		}
	}
	if f.putPolicy {
		if _, err := s.env.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(inlinePolicyName), PolicyDocument: aws.String(s.policy().JSON())}); err != nil {
			return fmt.Errorf("put the inline policy of %s: %w", s.name(), err)
		}
	}
	if f.createProfile {
		_, err := s.env.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: name, Path: aws.String(iamPath), Tags: tags})
		if err != nil && errorCode(err) != "EntityAlreadyExists" {
			return fmt.Errorf("create instance profile %s: %w", s.name(), err)
		}
	}
	if f.addToProfile {
		_, err := s.env.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: name, RoleName: name})
		if err != nil && errorCode(err) != "LimitExceeded" {
			return retryableCreate(fmt.Errorf("put role %s into its instance profile: %w", s.name(), err))
		}
	}
	return nil
}

func (s *iamRoleStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	role, err := s.getRole(ctx)
	if err != nil {
		return c, err
	}
	_, perr := s.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(s.name())})
	if perr != nil && !isNotFound(perr) {
		return c, fmt.Errorf("read instance profile %s: %w", s.name(), perr)
	}
	if role == nil && isNotFound(perr) {
		return c, s.env.forget(s.id)
	}
	c.ID = s.name()
	c.Action = plan.Delete
	return c, nil
}

// Delete takes the role out of the profile, deletes the profile, the
// inline policies and the role. DeleteConflict (an instance still uses the
// profile) means try again.
func (s *iamRoleStep) Delete(ctx context.Context, c plan.Change) error {
	name := aws.String(s.name())
	prof, err := s.env.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: name})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("read instance profile %s: %w", s.name(), err)
	}
	if err == nil {
		// Only a role that is in the profile is taken out: a run that was
		// interrupted may have done it already.
		for _, r := range prof.InstanceProfile.Roles {
			_, err := s.env.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: name, RoleName: r.RoleName})
			if err != nil && !isNotFound(err) {
				return retryableDelete(fmt.Errorf("take role %s out of instance profile %s: %w", aws.ToString(r.RoleName), s.name(), err))
			}
		}
		if _, err := s.env.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: name}); err != nil && !isNotFound(err) {
			return retryableDelete(fmt.Errorf("delete instance profile %s: %w", s.name(), err))
		}
	}
	pols, err := s.env.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("list the policies of %s: %w", s.name(), err)
	}
	if err == nil {
		for _, p := range pols.PolicyNames {
			if _, err := s.env.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete policy %s of %s: %w", p, s.name(), err)
			}
		}
	}
	// A managed policy someone attached (SSM access for debugging, say)
	// makes DeleteRole fail with DeleteConflict for as long as it stays:
	// detach it. The policy itself is not ours and stays.
	attached := iam.NewListAttachedRolePoliciesPaginator(s.env.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if isNotFound(err) {
			break
		}
		if err != nil {
			return fmt.Errorf("list the managed policies of %s: %w", s.name(), err)
		}
		for _, p := range page.AttachedPolicies {
			if _, err := s.env.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: p.PolicyArn}); err != nil && !isNotFound(err) {
				return fmt.Errorf("detach managed policy %s from %s: %w", aws.ToString(p.PolicyArn), s.name(), err)
			}
		}
	}
	if _, err := s.env.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete role %s: %w", s.name(), err))
	}
	return s.env.forget(s.id)
}

// getRole returns the stack's role, nil when absent, and an error when a
// role of that name belongs to someone else.
func (s *iamRoleStep) getRole(ctx context.Context) (*iamtypes.Role, error) {
	out, err := s.env.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(s.name())})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read IAM role %s: %w", s.name(), err)
	}
	owner := ""
	for _, t := range out.Role.Tags {
		if aws.ToString(t.Key) == TagStack {
			owner = aws.ToString(t.Value)
		}
	}
	if owner != s.env.Cfg.Stack {
		return nil, fmt.Errorf("%s: an IAM role named %s exists that stack %s did not create: delete or rename it, or choose another stack name", s.id, s.name(), s.env.Cfg.Stack)
	}
	return out.Role, nil
}

// samePolicy compares two policy documents by meaning: IAM hands them back
// URL-encoded, and may turn one-element lists into plain strings.
func samePolicy(got, want string) bool {
	if dec, err := url.QueryUnescape(got); err == nil {
		got = dec
	}
	return normalizePolicy(got) == normalizePolicy(want)
}

func normalizePolicy(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, _ := json.Marshal(listify(v, ""))
	return string(b)
}

// listify turns the string form of Action/Resource/Principal values into
// one-element lists so both spellings compare equal.
func listify(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = listify(val, k)
		}
		return x
	case []any:
		for i := range x {
			x[i] = listify(x[i], "")
		}
		return x
	case string:
		switch key {
		case "Action", "Resource", "NotAction", "NotResource", "Service", "AWS":
			return []any{x}
		}
	}
	return v
}
