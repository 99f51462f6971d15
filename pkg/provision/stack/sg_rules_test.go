package stack

import (
	"testing"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Rules survive the trip to AWS's permission shape and back, and the diff
// says exactly what to authorize and revoke; descriptions do not count.
func TestSecurityGroupRuleDiff(t *testing.T) {
	ssh := sgRule{Protocol: "tcp", From: 22, To: 22, Source: "sg-0123", Desc: "from the manager"}
	docker := sgRule{Protocol: "tcp", From: 2376, To: 2376, Source: "sg-0123", Desc: "from the manager"}
	out4 := sgRule{Egress: true, Protocol: allProtos, Source: anyIPv4}
	out6 := sgRule{Egress: true, Protocol: allProtos, Source: anyIPv6}
	open := sgRule{Protocol: "tcp", From: 22, To: 22, Source: anyIPv4, Desc: "added by hand"}
	v6 := sgRule{Protocol: "tcp", From: 443, To: 443, Source: "2001:db8:0800::/64"}
	cases := []struct {
		name              string
		have, want        []sgRule
		authorize, revoke int
	}{
		{"in sync", []sgRule{ssh, out4, out6}, []sgRule{ssh, out4, out6}, 0, 0},
		{"new group with AWS's default outbound rule", []sgRule{out4}, []sgRule{ssh, out4, out6}, 2, 0},
		{"a rule opened by hand", []sgRule{ssh, open, out4}, []sgRule{ssh, out4}, 0, 1},
		{"docker-autoscaler drops 2376", []sgRule{ssh, docker, out4}, []sgRule{ssh, out4}, 0, 1},
		{"description changed only", []sgRule{{Protocol: "tcp", From: 22, To: 22, Source: "sg-0123", Desc: "other"}}, []sgRule{ssh}, 0, 0},
		{"IPv6 written two ways", []sgRule{{Protocol: "tcp", From: 443, To: 443, Source: "2001:db8:800::/64"}}, []sgRule{v6}, 0, 0},
	}
	for _, c := range cases {
		// Through AWS's shape: what the group answers is what was written.
		var perms, egress []ec2types.IpPermission
		perms, egress = toPermissions(c.have, false), toPermissions(c.have, true)
		have := append(flattenPermissions(perms, false), flattenPermissions(egress, true)...)
		if len(have) != len(c.have) {
			t.Fatalf("%s: %d rules after the round trip, want %d", c.name, len(have), len(c.have))
		}
		add, revoke := diffRules(have, c.want)
		if len(add) != c.authorize || len(revoke) != c.revoke {
			t.Errorf("%s: authorize %v revoke %v, want %d and %d", c.name, add, revoke, c.authorize, c.revoke)
		}
	}
}
