package provision_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/preflight"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// Discover returns the account with its partition, the first zone offering both types, and the latest images.
func TestDiscoverFindsAccountZoneAndImages(t *testing.T) {
	f := newFakeStack(t, nil)
	f.answerDiscovery()
	d, err := f.s.Discover(context.Background(), ledger(), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stack.Identity{Account: "210987654321", Partition: "aws-us-gov", ARN: "arn:aws-us-gov:iam::210987654321:user/ops"}); d.Account != want {
		t.Errorf("account %+v, want %+v", d.Account, want)
	}
	if d.Zone != "eu-west-1b" {
		t.Errorf("zone %q, want eu-west-1b (the first offering both types)", d.Zone)
	}
	want := stack.Images{Manager: stack.Image{ID: amiAL2023, RootDevice: "/dev/xvda", RootSizeGB: 8}, Runners: map[string]stack.Image{"default": {ID: amiECS, RootDevice: "/dev/xvda", RootSizeGB: 30}}}
	if !reflect.DeepEqual(d.Images, want) {
		t.Errorf("images %+v, want %+v", d.Images, want)
	}
	if d.Facts["instance-type/t3.medium/architecture"] != "x86_64" || d.Facts["image/"+amiECS+"/root-size-gb"] != "30" {
		t.Errorf("facts learned: %v", d.Facts)
	}
}

// A teardown's Discover asks STS who the caller is, and lists what may
// name a fleet (groups, launch templates, token parameters), and nothing
// else: no zone, no image.
func TestDiscoverForTeardownIdentifiesAndFindsFleets(t *testing.T) {
	f := newFakeStack(t, nil)
	f.answerDiscovery()
	d, err := f.s.Discover(context.Background(), ledger(), true)
	if err != nil || d.Account.Account != "210987654321" || d.Zone != "" {
		t.Errorf("teardown discovery %+v, %v", d, err)
	}
	if m := f.c.Methods(); !reflect.DeepEqual(m, []string{"GetCallerIdentity", "DescribeAutoScalingGroups", "DescribeLaunchTemplates", "DescribeParameters"}) {
		t.Errorf("calls %v, want GetCallerIdentity and the lists of groups, templates and parameters", m)
	}
}

// Credentials STS refuses fail Discover, for a teardown too, with what to do about them.
func TestDiscoverWithBadCredentials(t *testing.T) {
	f := newFakeStack(t, nil)
	f.answerDiscovery()
	f.c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
		return nil, errors.New("InvalidClientTokenId")
	}
	for _, teardown := range []bool{false, true} {
		if _, err := f.s.Discover(context.Background(), ledger(), teardown); err == nil || !strings.Contains(err.Error(), "AWS credentials do not work") {
			t.Errorf("teardown %v: %v", teardown, err)
		}
	}
}

// Preflight over a prepared account passes and returns what it found, the runner's id in GitLab included.
func TestPreflightPassesAndReturnsWhatItFound(t *testing.T) {
	f := newFakeStack(t, nil)
	f.answerDiscovery()
	d, err := f.s.Preflight(context.Background(), ledger())
	if err != nil {
		t.Fatal(err)
	}
	if d.Zone != "eu-west-1b" || d.Images.Runner("default").ID != amiECS || d.Account.Account != "210987654321" || d.RunnerID == 0 {
		t.Errorf("found %+v", d)
	}
}

// Preflight reports every problem at once and still returns what it found.
func TestPreflightReportsEveryProblem(t *testing.T) {
	f := newFakeStack(t, nil)
	f.answerDiscovery()
	f.c.IAM.GetPolicyFn = nil // no permissions boundary
	f.c.EC2.DescribeAddressesFn = func(context.Context, *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error) {
		return &ec2.DescribeAddressesOutput{Addresses: []ec2types.Address{{AllocationId: aws.String("eipalloc-a")}, {AllocationId: aws.String("eipalloc-b")}}}, nil
	}
	f.c.EC2.DescribeAccountAttributesFn = func(context.Context, *ec2.DescribeAccountAttributesInput) (*ec2.DescribeAccountAttributesOutput, error) {
		return &ec2.DescribeAccountAttributesOutput{AccountAttributes: []ec2types.AccountAttribute{{AttributeName: aws.String("vpc-max-elastic-ips"),
			AttributeValues: []ec2types.AccountAttributeValue{{AttributeValue: aws.String("3")}}}}}, nil
	}
	d, err := f.s.Preflight(context.Background(), ledger())
	var pe *preflight.PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	if !strings.Contains(pe.Problems[0], "needs 2 more Elastic IP(s) but only 1 of the account's 3 are free") || !strings.Contains(pe.Problems[1], "permissions boundary") {
		t.Errorf("problems %q", pe.Problems)
	}
	if d.Zone != "eu-west-1b" {
		t.Errorf("zone %q not returned with the problems", d.Zone)
	}
}

// Steps builds with the run's findings and shared reads; a teardown's graph holds every variant's steps.
func TestStepsBuildWithTheRunsOptions(t *testing.T) {
	f := newFakeStack(t, nil)
	found := f.base.Discovered()
	g, err := f.s.Steps(ledger(), stack.EnvOptions{Found: found})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Has(stack.StepManager) || g.Has(stack.StepCache) {
		t.Errorf("configured graph: manager %v, cache %v", g.Has(stack.StepManager), g.Has(stack.StepCache))
	}
	down, err := f.s.Steps(ledger(), stack.EnvOptions{Found: found, Teardown: true})
	if err != nil {
		t.Fatal(err)
	}
	if !down.Has(stack.StepCache) || down.Len() <= g.Len() {
		t.Errorf("teardown graph: %d steps (cache %v), configured %d", down.Len(), down.Has(stack.StepCache), g.Len())
	}
	own := awsapi.NewReads()
	if _, err := f.s.Steps(ledger(), stack.EnvOptions{Found: found, Reads: own}); err != nil {
		t.Fatal(err)
	}
	o := f.options()
	if len(o) != 3 || o[0].Reads != f.s.Reads || o[0].Found.Zone != found.Zone || !o[1].Teardown || o[2].Reads != own {
		t.Errorf("options given: %+v", o)
	}
}

// Retired is what the state records but the configuration turned off, from a configured and a teardown environment.
func TestRetiredListsWhatTheConfigurationTurnedOff(t *testing.T) {
	f := newFakeStack(t, nil)
	found := f.base.Discovered()
	if g, err := f.s.Retired(ledger(), stack.EnvOptions{Found: found}); err != nil || g.Len() != 0 {
		t.Fatalf("retired from an empty state: %v", err)
	}
	l := ledger()
	if err := l.Put(string(stack.StepCache), &state.Resource{Type: "s3_bucket", ID: "ci-cache-0123456789ab", Status: state.StatusCreated}); err != nil {
		t.Fatal(err)
	}
	g, err := f.s.Retired(l, stack.EnvOptions{Found: found})
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 1 || !g.Has(stack.StepCache) {
		t.Errorf("retired %d steps, want %s alone", g.Len(), stack.StepCache)
	}
	if o := f.options(); len(o) != 4 || o[2].Teardown || !o[3].Teardown || o[3].Found.Zone != found.Zone {
		t.Errorf("options given: %+v", o)
	}
}

// Inspect reads the facts of the resources the state it is given records.
func TestInspectReadsTheRecordedStack(t *testing.T) {
	f := newFakeStack(t, nil)
	l := f.up(t)
	facts := f.s.Inspect(context.Background(), l)
	if facts.ManagerID == "" || facts.ManagerID != l.Get(string(stack.StepManager)).ID || facts.ManagerState != "running" {
		t.Errorf("manager %q %q", facts.ManagerID, facts.ManagerState)
	}
	if facts := f.s.Inspect(context.Background(), ledger()); facts.ManagerID != "" || facts.ManagerState != "" {
		t.Errorf("facts of an empty state: %+v", facts)
	}
}

// Doctor checks the flows of the stack the state records, and refuses a state with nothing recorded.
func TestDoctorOfTheRecordedStack(t *testing.T) {
	f := newFakeStack(t, nil)
	if _, err := f.s.Doctor(context.Background(), ledger()); err == nil {
		t.Error("doctor of an empty state: no error")
	}
	flows, err := f.s.Doctor(context.Background(), f.up(t))
	if err != nil {
		t.Fatal(err)
	}
	names := fmt.Sprint(flows)
	for _, want := range []string{"manager -> runner machines 22", "the manager's boot report", "the runner token in SSM is valid"} {
		if !strings.Contains(names, want) {
			t.Errorf("no flow %q in %s", want, names)
		}
	}
}

// Without the NewEnv seam AWSStack builds stack.NewEnv's environment over the AWS configuration given.
func TestStepsOverAWSConfigWithoutSeam(t *testing.T) {
	f := newFakeStack(t, nil)
	s := provision.AWSStack{Cfg: f.base.Cfg, AWS: aws.Config{Region: "eu-west-1"}}
	g, err := s.Steps(ledger(), stack.EnvOptions{Found: f.base.Discovered()})
	if err != nil || !g.Has(stack.StepManager) {
		t.Fatalf("graph over stack.NewEnv: %v", err)
	}
	if len(f.options()) != 0 || len(f.c.Calls()) != 0 {
		t.Errorf("used the fakes: %d environments, %d calls", len(f.options()), len(f.c.Calls()))
	}
}
