package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/state"
)

const stepIGW plan.ID = "igw"

// internetGatewayStep creates and attaches the internet gateway. In an
// existing VPC it uses the gateway already attached, if any, and never
// deletes it.
type internetGatewayStep struct{ env *Env }

func newInternetGatewayStep(env *Env) *internetGatewayStep { return &internetGatewayStep{env: env} }

func (s *internetGatewayStep) ID() plan.ID          { return stepIGW }
func (s *internetGatewayStep) DependsOn() []plan.ID { return []plan.ID{stepVPC} }

func (s *internetGatewayStep) change() plan.Change {
	return plan.Change{Step: stepIGW, Kind: "internet-gateway", Name: s.env.name("igw"),
		Attrs: []plan.Attr{{Key: "vpc", Value: orUnknown(s.env.idOf(stepVPC))}}}
}

func (s *internetGatewayStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	vpcID := s.env.idOf(stepVPC)
	igw, owned, dups, err := s.find(ctx, vpcID)
	if err != nil {
		return c, err
	}
	if igw == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepIGW)
	}
	c.ID = aws.ToString(igw.InternetGatewayId)
	if !owned {
		c.Name = "existing internet gateway"
		return c, s.env.external(stepIGW, "internet-gateway", c.ID, nil)
	}
	if err := s.env.created(stepIGW, "internet-gateway", c.ID, nil); err != nil {
		return c, err
	}
	f := &igwFixes{duplicates: dups}
	if !attachedTo(igw, vpcID) {
		f.attach = true
		c.Reasons = []string{"attach to " + orUnknown(vpcID)}
	}
	for _, d := range dups {
		c.Reasons = append(c.Reasons, duplicateReasons([]string{aws.ToString(d.InternetGatewayId)})...)
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

// igwFixes is what Apply does to an existing gateway.
type igwFixes struct {
	attach     bool
	duplicates []*ec2types.InternetGateway
}

func (s *internetGatewayStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	f, _ := c.Detail.(*igwFixes)
	if f != nil {
		for _, d := range f.duplicates {
			if err := s.remove(ctx, d); err != nil {
				return err
			}
		}
		if !f.attach {
			return nil
		}
	}
	if c.Action == plan.Create {
		if _, err := s.env.beginCreate(stepIGW, "internet-gateway"); err != nil {
			return err
		}
		out, err := s.env.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
			TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeInternetGateway, stepIGW, "igw"),
		})
		if err != nil {
			return fmt.Errorf("create internet gateway: %w", err)
		}
		id = aws.ToString(out.InternetGateway.InternetGatewayId)
		if err := s.env.created(stepIGW, "internet-gateway", id, nil); err != nil {
			return err
		}
	}
	vpcID := s.env.idOf(stepVPC)
	_, err := s.env.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcID})
	if err != nil {
		return retryableCreate(fmt.Errorf("attach internet gateway %s to %s: %w", id, vpcID, err))
	}
	return nil
}

func (s *internetGatewayStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	if r := s.env.Ledger.Get(string(stepIGW)); r != nil && r.Status == state.StatusExternal {
		return c, s.env.forget(stepIGW)
	}
	igw, owned, dups, err := s.find(ctx, "")
	if err != nil || igw == nil || !owned {
		if err == nil {
			err = s.env.forget(stepIGW)
		}
		return c, err
	}
	c.ID = aws.ToString(igw.InternetGatewayId)
	c.Action = plan.Delete
	c.Detail = append(dups, igw)
	return c, nil
}

func (s *internetGatewayStep) Delete(ctx context.Context, c plan.Change) error {
	for _, igw := range c.Detail.([]*ec2types.InternetGateway) {
		if err := s.remove(ctx, igw); err != nil {
			return err
		}
	}
	return s.env.forget(stepIGW)
}

// remove detaches and deletes one gateway.
func (s *internetGatewayStep) remove(ctx context.Context, igw *ec2types.InternetGateway) error {
	id := igw.InternetGatewayId
	for _, a := range igw.Attachments {
		_, err := s.env.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: id, VpcId: a.VpcId})
		if err != nil && !isNotFound(err) && errorCode(err) != "Gateway.NotAttached" {
			// Detaching waits for mapped public addresses to be released.
			return retryableDelete(fmt.Errorf("detach internet gateway %s: %w", aws.ToString(id), err))
		}
	}
	_, err := s.env.EC2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: id})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete internet gateway %s: %w", aws.ToString(id), err))
	}
	return nil
}

// find returns the stack's gateway by its tags (keeping the recorded one
// when there are duplicates), or in an existing VPC the gateway attached to
// it (owned=false).
func (s *internetGatewayStep) find(ctx context.Context, vpcID string) (*ec2types.InternetGateway, bool, []*ec2types.InternetGateway, error) {
	out, err := s.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: s.env.ownerFilters(stepIGW)})
	if err != nil {
		return nil, false, nil, fmt.Errorf("find internet gateway by tags: %w", err)
	}
	var owned []*ec2types.InternetGateway
	for i := range out.InternetGateways {
		if s.env.ownedBy(out.InternetGateways[i].Tags, stepIGW) {
			owned = append(owned, &out.InternetGateways[i])
		}
	}
	if len(owned) > 0 {
		keep, _ := keepOne(owned, func(g *ec2types.InternetGateway) string { return aws.ToString(g.InternetGatewayId) }, s.env.Ledger.Get(string(stepIGW)).RecordedID())
		var dups []*ec2types.InternetGateway
		for _, g := range owned {
			if g != keep {
				dups = append(dups, g)
			}
		}
		return keep, true, dups, nil
	}
	if s.env.Cfg.Network.VpcID != "" && vpcID != "" {
		out, err := s.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{filter("attachment.vpc-id", vpcID)}})
		if err != nil {
			return nil, false, nil, fmt.Errorf("find the internet gateway of %s: %w", vpcID, err)
		}
		if len(out.InternetGateways) > 0 {
			return &out.InternetGateways[0], false, nil, nil
		}
	}
	return nil, false, nil, nil
}

func attachedTo(igw *ec2types.InternetGateway, vpcID string) bool {
	for _, a := range igw.Attachments {
		if aws.ToString(a.VpcId) == vpcID && (a.State == ec2types.AttachmentStatusAttached || a.State == "available" || a.State == ec2types.AttachmentStatusAttaching) {
			return true
		}
	}
	return false
}
