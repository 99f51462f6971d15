package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// internetGatewayKind creates and attaches the internet gateway. In an
// existing VPC it uses the gateway already attached, if any, and never
// changes or deletes it.
type internetGatewayKind struct{ env *Env }

type igw = *ec2types.InternetGateway

// igwFix: the gateway is not attached to the stack's VPC.
type igwFix struct{ attach bool }

func newInternetGatewayStep(env *Env) plan.Step {
	return resource.NewStep[igw, igwFix](env.shared(), "internet-gateway", internetGatewayKind{env})
}

func (k internetGatewayKind) StepID() plan.ID  { return StepIGW }
func (k internetGatewayKind) Needs() []plan.ID { return []plan.ID{StepVPC} }

func (k internetGatewayKind) Describe() plan.Change {
	return plan.Change{Step: StepIGW, Kind: "internet-gateway", Name: k.env.name("igw"),
		Attrs: []plan.Attr{{Key: "vpc", Value: orUnknown(k.env.IDOf(StepVPC))}}}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k internetGatewayKind) Hooks() resource.Hooks[igw, igwFix] {
	return resource.Hooks[igw, igwFix]{EC2Tags: k.ec2TagsOf}
}

// Find returns the stack's gateway by its tags or, in an existing VPC
// without one, the gateway attached to that VPC (external).
func (k internetGatewayKind) Find(ctx context.Context) (resource.Found[igw], error) {
	out, err := k.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: k.env.ownerFilters(StepIGW)})
	if err != nil {
		return resource.Found[igw]{}, fmt.Errorf("find internet gateway by tags: %w", err)
	}
	f := lookupOwned(k.env, StepIGW, resource.Pointers(out.InternetGateways), igwID, func(g igw) bool { return k.env.ownedBy(g.Tags, StepIGW) })
	vpcID := k.env.IDOf(StepVPC)
	if f.Exists || k.env.Cfg.Network.VpcID == "" || vpcID == "" {
		return f, nil
	}
	out, err = k.env.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{Filter("attachment.vpc-id", vpcID)}})
	if err != nil {
		return f, fmt.Errorf("find the internet gateway of %s: %w", vpcID, err)
	}
	if len(out.InternetGateways) > 0 {
		return resource.Found[igw]{Cur: &out.InternetGateways[0], Exists: true, External: true}, nil
	}
	return f, nil
}

func igwID(g igw) string { return aws.ToString(g.InternetGatewayId) }

func (k internetGatewayKind) Record(g igw) resource.Recorded { return resource.Recorded{ID: igwID(g)} }

func (k internetGatewayKind) Diff(_ context.Context, g igw) (igwFix, []string, error) {
	vpcID := k.env.IDOf(StepVPC)
	if attachedTo(g, vpcID) {
		return igwFix{}, nil, nil
	}
	return igwFix{attach: true}, []string{"attach to " + orUnknown(vpcID)}, nil
}

func (k internetGatewayKind) Create(ctx context.Context, _ string, _ resource.Found[igw]) (igw, igwFix, error) {
	out, err := k.env.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeInternetGateway, StepIGW, "igw"),
	})
	if err != nil {
		return nil, igwFix{}, fmt.Errorf("create internet gateway: %w", err)
	}
	return out.InternetGateway, igwFix{attach: true}, nil
}

func (k internetGatewayKind) Update(ctx context.Context, g igw, fix igwFix) error {
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

// Remove detaches and deletes one gateway.
func (k internetGatewayKind) Remove(ctx context.Context, g igw) error {
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

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k internetGatewayKind) ec2TagsOf(cur igw) []ec2types.Tag { return cur.Tags }
