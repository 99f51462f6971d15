package traffic

import (
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Route returns the route a route table uses for dst, as AWS chooses it:
// the most specific active route whose destination contains dst ("Route
// priority" in the VPC User Guide). ok is false when no route matches.
func Route(routes []ec2types.Route, dst netip.Addr) (r ec2types.Route, ok bool) {
	best := -1
	for _, rt := range routes {
		if rt.State == ec2types.RouteStateBlackhole {
			continue
		}
		p, err := netip.ParsePrefix(aws.ToString(rt.DestinationCidrBlock) + aws.ToString(rt.DestinationIpv6CidrBlock))
		if err != nil || !p.Contains(dst) || p.Bits() <= best {
			continue
		}
		best, r, ok = p.Bits(), rt, true
	}
	return r, ok
}

// Target names where a route sends traffic: the gateway, NAT gateway,
// instance or interface id, or "local".
func Target(r ec2types.Route) string {
	for _, id := range []*string{r.NatGatewayId, r.EgressOnlyInternetGatewayId, r.GatewayId, r.InstanceId, r.NetworkInterfaceId, r.TransitGatewayId, r.VpcPeeringConnectionId} {
		if s := aws.ToString(id); s != "" {
			return s
		}
	}
	return "nothing"
}
