package awsapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
)

// A step's call names the step and walk last in the User-Agent; others name none.
func TestUserAgentNamesTheStep(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, func(w http.ResponseWriter, _ string, _ int) {
		_, _ = w.Write([]byte(ec2OK))
	})
	c := ec2.NewFromConfig(cfg)
	step := funcStep{id: "nat", do: func(ctx context.Context, _ string) error {
		_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}}
	g, err := plan.NewGraph(step)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&plan.Executor{Parallelism: 1}).Run(context.Background(), g).Err(); err != nil {
		t.Fatal(err)
	}
	ua := f.agent("DescribeVpcs")
	if !strings.HasSuffix(ua, " "+StepAgentPrefix+"plan=nat") || !strings.HasPrefix(ua, "aws-sdk-go-v2/") {
		t.Errorf("User-Agent of the step's call: %q", ua)
	}
	if _, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{}); err != nil {
		t.Fatal(err)
	}
	if ua := f.agent("DescribeSubnets"); strings.Contains(ua, StepAgentPrefix) {
		t.Errorf("User-Agent of a call outside any step: %q", ua)
	}
}
