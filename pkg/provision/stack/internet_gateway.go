package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// internetGateway creates and attaches the internet gateway. In an
// existing VPC it uses the gateway already attached, if any, and never
// changes or deletes it.
type internetGateway struct{ env *Env }

type igw = *ec2types.InternetGateway

// igwFix: the gateway is not attached to the stack's VPC.
type igwFix struct{ attach bool }

func newInternetGatewayStep(env *Env) plan.Step {
	return newResourceStep[igw, igwFix](env, "internet-gateway", internetGateway{env})
}

func (k internetGateway) stepID() plan.ID  { return StepIGW }
func (k internetGateway) needs() []plan.ID { return []plan.ID{StepVPC} }

func (k internetGateway) describe() plan.Change {
	return plan.Change{Step: StepIGW, Kind: "internet-gateway", Name: k.env.name("igw"),
		Attrs: []plan.Attr{{Key: "vpc", Value: orUnknown(k.env.IDOf(StepVPC))}}}
}

// find returns the stack's gateway by its tags or, in an existing VPC
// without one, the gateway attached to that VPC (external).
func (k internetGateway) find(ctx context.Context) (found[igw], error) {
	out, err := k.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: k.env.ownerFilters(StepIGW)})
	if err != nil {
		return found[igw]{}, fmt.Errorf("find internet gateway by tags: %w", err)
	}
	f := lookupOwned(k.env, StepIGW, pointers(out.InternetGateways), igwID, func(g igw) bool { return k.env.ownedBy(g.Tags, StepIGW) })
	vpcID := k.env.IDOf(StepVPC)
	if f.exists || k.env.Cfg.Network.VpcID == "" || vpcID == "" {
		return f, nil
	}
	out, err = k.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{Filter("attachment.vpc-id", vpcID)}})
	if err != nil {
		return f, fmt.Errorf("find the internet gateway of %s: %w", vpcID, err)
	}
	if len(out.InternetGateways) > 0 {
		return found[igw]{cur: &out.InternetGateways[0], exists: true, external: true}, nil
	}
	return f, nil
}

func igwID(g igw) string { return aws.ToString(g.InternetGatewayId) }

func (k internetGateway) record(g igw) recorded { return recorded{id: igwID(g)} }

func (k internetGateway) diff(_ context.Context, g igw) (igwFix, []string, error) {
	vpcID := k.env.IDOf(StepVPC)
	if attachedTo(g, vpcID) {
		return igwFix{}, nil, nil
	}
	return igwFix{attach: true}, []string{"attach to " + orUnknown(vpcID)}, nil
}

func (k internetGateway) create(ctx context.Context, _ string, _ found[igw]) (igw, igwFix, error) {
	out, err := k.env.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeInternetGateway, StepIGW, "igw"),
	})
	if err != nil {
		return nil, igwFix{}, fmt.Errorf("create internet gateway: %w", err)
	}
	return out.InternetGateway, igwFix{attach: true}, nil
}

func (k internetGateway) update(ctx context.Context, g igw, fix igwFix) error {
	if !fix.attach {
		return nil
	}
	id, vpcID := igwID(g), k.env.IDOf(StepVPC)
	_, err := k.env.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcID})
	if err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("attach internet gateway %s to %s: %w", id, vpcID, err))
	}
	return nil
}

// remove detaches and deletes one gateway.
func (k internetGateway) remove(ctx context.Context, g igw) error {
	id := g.InternetGatewayId
	for _, a := range g.Attachments {
		_, err := k.env.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: id, VpcId: a.VpcId})
		if err != nil && !awsapi.IsNotFound(err) && awsapi.ErrorCode(err) != "Gateway.NotAttached" {
			// Detaching waits for mapped public addresses to be released.
			return awsapi.RetryableDelete(fmt.Errorf("detach internet gateway %s: %w", aws.ToString(id), err))
		}
	}
	_, err := k.env.EC2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete internet gateway %s: %w", aws.ToString(id), err))
	}
	return nil
}

func attachedTo(g igw, vpcID string) bool {
	for _, a := range g.Attachments {
		if aws.ToString(a.VpcId) == vpcID && (a.State == ec2types.AttachmentStatusAttached || a.State == "available" || a.State == ec2types.AttachmentStatusAttaching) {
			return true
		}
	}
	return false
}

// ec2TagsOf: the configuration's tags follow `tags:` (tag_drift.go).
func (k internetGateway) ec2TagsOf(cur igw) []ec2types.Tag { return cur.Tags }
