package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Discover reads what every plan needs besides the resources: the account,
// the zone and the images. It only reads.
func Discover(ctx context.Context, e *stack.Env) error {
	if err := Identify(ctx, e); err != nil {
		return err
	}
	if err := ResolveZone(ctx, e); err != nil {
		return err
	}
	if paths, err := ResolveGitLab(ctx, e); err == nil {
		e.GitLab6 = paths.IPv6
	}
	// A plan says what a Spot group lacks, as up's preflight does.
	warnSpotPools(e)
	return e.ResolveImages(ctx)
}

// Identify asks STS who we are.
func Identify(ctx context.Context, e *stack.Env) error {
	out, err := e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("AWS credentials do not work (STS GetCallerIdentity: %w): configure them with `aws configure`, AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
	e.Account = stack.Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), Partition: "aws"}
	if parts := strings.SplitN(e.Account.ARN, ":", 3); len(parts) > 1 && parts[1] != "" {
		e.Account.Partition = parts[1]
	}
	return nil
}

// checkRootVolume: EC2 refuses to launch a root volume smaller than the
// image's snapshot, which the Auto Scaling group would only show as failed
// launches, long after `up`.
func checkRootVolume(e *stack.Env) error {
	var problems []string
	for _, f := range e.Cfg.FleetList() {
		img, want := e.Images.Runner(f.Name), f.VolumeSizeGB
		if !f.Autoscaler() || img.RootSizeGB <= want {
			continue
		}
		key := f.Key("volume_size_gb")
		problems = append(problems, fmt.Sprintf("%s %d is smaller than the root snapshot of the machines' image %s (%d GiB), which EC2 refuses to launch: set %s to at least %d", key, want, img.ID, img.RootSizeGB, key, img.RootSizeGB))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
