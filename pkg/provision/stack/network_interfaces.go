package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// busyError adds to a delete that AWS refused with DependencyViolation the
// network interfaces that hold the resource (filterName: subnet-id or
// group-id), so a subnet or group that stays busy names its holder: an
// instance not yet terminated, a NAT gateway, a load balancer or a Lambda
// function someone placed there.
func busyError(ctx context.Context, env *Env, err error, filterName, id string) error {
	if awsapi.ErrorCode(err) != "DependencyViolation" {
		return err
	}
	out, derr := env.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{Filter(filterName, id)}})
	if derr != nil || len(out.NetworkInterfaces) == 0 {
		return err
	}
	var held []string
	for _, ni := range out.NetworkInterfaces {
		h := aws.ToString(ni.NetworkInterfaceId)
		if a := ni.Attachment; a != nil && aws.ToString(a.InstanceId) != "" {
			h += " of instance " + aws.ToString(a.InstanceId)
		}
		if d := aws.ToString(ni.Description); d != "" {
			h += fmt.Sprintf(" (%q)", d)
		}
		held = append(held, h)
	}
	return fmt.Errorf("%w; still in use by network interface(s) %s", err, strings.Join(held, ", "))
}
