package preflight

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// A root volume smaller than the image's snapshot is refused; an unknown size is not.
func TestRootVolumeNotSmallerThanTheImage(t *testing.T) {
	cfg := config.Defaults()
	cfg.Runners.VolumeSizeGB = 20
	e := &stack.Env{Cfg: &cfg, Images: stack.Images{Runners: map[string]stack.Image{"default": {ID: "ami-ecs", RootSizeGB: 30}}}}
	if err := checkRootVolume(e); err == nil || !strings.Contains(err.Error(), "at least 30") {
		t.Errorf("a 20 GiB root for a 30 GiB image: %v", err)
	}
	cfg.Runners.VolumeSizeGB = 30
	if err := checkRootVolume(e); err != nil {
		t.Errorf("30 GiB for a 30 GiB image: %v", err)
	}
	e.Images.Runners["default"] = stack.Image{ID: "ami-ecs"} // size not known
	cfg.Runners.VolumeSizeGB = 8
	if err := checkRootVolume(e); err != nil {
		t.Errorf("unknown snapshot size: %v", err)
	}
}

// Discover finds account, zone, images and GitLab's IPv6 without writing to AWS or asking GitLab.
func TestDiscoverFindsAccountZoneAndImages(t *testing.T) {
	a := newAccount(t, nil)
	a.e.Resolver = fakeResolver{"2600:1f18:1:2::5"}
	if err := Discover(context.Background(), a.e); err != nil {
		t.Fatal(err)
	}
	e := a.e
	if e.Account.Account != "123456789012" || e.Zone != "eu-west-1a" || e.Images.Runner("default").ID != "ami-ecs-x86" || e.Images.Manager.ID != "ami-al2023-x86" || !e.GitLab6 {
		t.Errorf("account %+v, zone %q, images %+v, GitLab6 %v", e.Account, e.Zone, e.Images, e.GitLab6)
	}
	a.noWrites(t)
	if verify, create := a.gl.Counts(); verify != 0 || create != 0 {
		t.Errorf("GitLab asked %d+%d times", verify, create)
	}
}

// A GitLab name that does not resolve here is no reason to stop Discover.
func TestDiscoverIgnoresAnUnresolvedGitLab(t *testing.T) {
	a := newAccount(t, nil)
	a.e.Cfg.GitLab.URL = "https://gitlab.invalid"
	a.e.Resolver = failingResolver{}
	if err := Discover(context.Background(), a.e); err != nil || a.e.GitLab6 {
		t.Errorf("%v, GitLab6 %v; want no error and no IPv6", err, a.e.GitLab6)
	}
}

// Discover stops at the first failure (credentials, then zone) and reads nothing after it.
func TestDiscoverStopsAtTheFirstFailure(t *testing.T) {
	a := newAccount(t, nil)
	a.c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
		return nil, apiError("ExpiredToken")
	}
	if err := Discover(context.Background(), a.e); err == nil || !strings.Contains(err.Error(), "AWS credentials do not work") {
		t.Errorf("%v, want the credentials' error", err)
	}
	if len(a.c.Calls()) != 1 {
		t.Errorf("calls %v after the credentials failed", a.c.Methods())
	}

	a = newAccount(t, nil)
	a.Zones = nil
	if err := Discover(context.Background(), a.e); err == nil || !strings.Contains(err.Error(), "has no available zones") {
		t.Errorf("%v, want the zone's error", err)
	}
	if a.called("GetParameters") || a.called("DescribeImages") {
		t.Errorf("images looked for without a zone: %v", a.c.Methods())
	}
}

// Identify takes the account and the partition from the caller's ARN, aws by default.
func TestIdentifyPartition(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:user/ci":              "aws",
		"arn:aws-cn:sts::123456789012:assumed-role/ci/x": "aws-cn",
		"arn:aws-us-gov:iam::123456789012:role/deploy":   "aws-us-gov",
		"": "aws",
	} {
		a := newAccount(t, nil)
		a.c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
			return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012"), Arn: aws.String(arn)}, nil
		}
		if err := Identify(context.Background(), a.e); err != nil {
			t.Fatal(err)
		}
		if got := a.e.Account; got != (stack.Identity{Account: "123456789012", ARN: arn, Partition: want}) {
			t.Errorf("%q: %+v, want partition %s", arn, got, want)
		}
	}
}
