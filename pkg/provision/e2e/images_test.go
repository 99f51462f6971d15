package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

const ecsImageParameter = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"

// AWS publishes a new ECS-optimized image (the proxy answers the public
// parameter with another AMI): the plan shows the launch template's move
// with the image's date, up applies it, and the manager stays. With
// runners.image_updates: pinned a newer image is not a change.
func TestNewImageReachesTheMachines(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	ctx := context.Background()
	h.mustRun(0, "up", "--auto-approve")
	p, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ecsImageParameter)})
	if err != nil {
		t.Fatal(err)
	}
	old := aws.ToString(p.Parameter.Value)
	publish := func(ami string) {
		h.proxy.SetRewrite(func(c awstest.Call, body []byte) []byte {
			// SSM speaks JSON: the action is its X-Amz-Target, AmazonSSM.GetParameters.
			if !strings.HasSuffix(c.Action, ".GetParameters") && !strings.HasSuffix(c.Action, ".GetParameter") {
				return body
			}
			return bytes.ReplaceAll(body, []byte(old), []byte(ami))
		})
	}
	newer := "ami-12c6146b" // another of the emulator's x86_64 images
	publish(newer)
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(plan.stdout, "image "+old+" -> "+newer+" (published ") || !strings.Contains(plan.stdout, "~ lt/runner") {
		t.Errorf("the plan does not show the new image:\n%s", plan.stdout)
	}
	if strings.Contains(plan.stdout, "instance/manager") {
		t.Errorf("a new machine image touches the manager:\n%s", plan.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	v, err := h.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("net-runner"), Versions: []string{"$Default"}})
	if err != nil || len(v.LaunchTemplateVersions) != 1 || aws.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.ImageId) != newer {
		t.Fatalf("the template's default version does not launch %s: %+v %v", newer, v, err)
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after the image update:\n%s", r)
	}

	// Pinned: the next release is not taken.
	h.writeConfig(baseConfig + "runners:\n  image_updates: pinned\n")
	publish("ami-1812c061")
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("a pinned image moved:\n%s", r)
	}
	h.proxy.SetRewrite(nil)
	h.mustRun(0, "down", "--auto-approve")
}
