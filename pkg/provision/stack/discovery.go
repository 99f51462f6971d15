package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// Identity is the AWS account the run acts in.
type Identity struct {
	Account   string
	Partition string
	ARN       string
}

// Image is an AMI to launch and the device its root volume is on.
type Image struct {
	ID         string
	RootDevice string
	// RootSizeGB is the size of the image's root snapshot (0: not known);
	// a root volume may not be smaller (the ECS-optimized image's is 30 GiB).
	RootSizeGB int
	// Published is when AWS made the image (its CreationDate, a day);
	// "" when not known.
	Published string
}

// Images are the AMIs of the manager and of each fleet's machines.
type Images struct {
	Manager Image
	// Runners are the fleets' images by fleet name.
	Runners map[string]Image
}

// Runner is the image of a fleet's machines.
func (i Images) Runner(fleet string) Image { return i.Runners[fleet] }

// Discovery is what Discover finds. One run finds it once and hands it to
// every walk (EnvOptions.Found), so preflight, plan and apply agree on zone and images.
type Discovery struct {
	Account Identity
	Zone    string
	Zones   []string
	Images  Images
	GitLab6 bool
	// StoredTokenRenewed: preflight found the token parameter renewed.
	StoredTokenRenewed bool
	RenewedFleets      map[string]bool
	// Fleets are the fleets a teardown found by their tags.
	Fleets []string
	// RunnerID is the runner's id in GitLab, from preflight.
	RunnerID int64
	// Facts are the unchanging facts learned or read (see state.Document).
	Facts map[string]string
}

// Discovered returns what this environment found.
func (e *Env) Discovered() Discovery {
	return Discovery{Account: e.Account, Zone: e.Zone, Zones: e.Zones, Images: e.Images, GitLab6: e.GitLab6, StoredTokenRenewed: e.StoredTokenRenewed, RenewedFleets: e.RenewedFleets, Fleets: e.FoundFleets, RunnerID: e.RunnerID, Facts: e.Ledger.Facts()}
}

// use takes what an earlier Discover (or Preflight) of the same run found.
func (e *Env) use(d Discovery) {
	e.Account, e.Zone, e.Zones, e.Images, e.GitLab6, e.StoredTokenRenewed, e.RunnerID = d.Account, d.Zone, d.Zones, d.Images, d.GitLab6, d.StoredTokenRenewed, d.RunnerID
	e.RenewedFleets, e.FoundFleets = d.RenewedFleets, d.Fleets
	// Facts a probe learned reach the state with the walk's first change.
	for k, v := range d.Facts {
		if e.Ledger.Fact(k) != v {
			e.Ledger.LearnFact(k, v)
		}
	}
}

// arns returns the ARN builder of this account and region.
func (e *Env) arns() policy.ARNs {
	return policy.ARNs{Partition: e.Account.Partition, Region: e.Region, Account: e.Account.Account}
}

// An image family is a series of AMIs AWS publishes, the latest of each
// architecture named by a public SSM parameter.
const (
	familyAmazonLinux = "Amazon Linux 2023"
	familyECS         = "ECS-optimized Amazon Linux 2023"
	familyWindowsECS  = "ECS-optimized Windows Server 2022"
)

// otherFamily is the family that is not f.
func otherFamily(f string) string {
	if f == familyECS {
		return familyAmazonLinux
	}
	return familyECS
}

// runnerImageFamily is the family of a fleet's machines' image.
func (e *Env) runnerImageFamily(f config.Fleet) string {
	if f.Windows() {
		return familyWindowsECS
	}
	if f.Autoscaler() && f.BaseImage == config.BaseImageECS {
		return familyECS
	}
	return familyAmazonLinux
}

// latestImageParameter names the public parameter holding the latest AMI
// of a family: Amazon Linux's are listed in its user guide ("Query for
// the latest Amazon Linux AMI IDs using Systems Manager Parameter Store"),
// the ECS-optimized ones in the ECS developer guide ("Retrieving Amazon
// ECS-optimized Linux AMI metadata"), arm64 under a path of its own.
//
// The ECS-optimized Windows Server images are x86_64 only; theirs is in
// the ECS developer guide's "Retrieving Amazon ECS-optimized Windows AMI
// metadata".
func latestImageParameter(family, arch string) string {
	if family == familyWindowsECS {
		return "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-ECS_Optimized/image_id"
	}
	if family == familyECS {
		if arch == "arm64" {
			return "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
		}
		return "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
	}
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + arch
}

// familyFact records which family an AMI came from, so that a change of
// runners.base_image is told from a newer release of the same family.
func familyFact(ami string) string { return "image/" + ami + "/family" }

// ResolveImages finds the manager and runner AMIs: the configured ones,
// else the latest of the image family for the instance type's
// architecture (Amazon Linux 2023; for the machines of docker-autoscaler
// by default its ECS-optimized variant, which holds Docker already).
func (e *Env) ResolveImages(ctx context.Context) error {
	var err error
	if e.Images.Manager, err = e.resolveImage(ctx, "manager", e.Cfg.Manager.AMI, e.Cfg.Manager.InstanceType, familyAmazonLinux); err != nil {
		return err
	}
	e.Images.Runners = map[string]Image{}
	for _, f := range e.Cfg.FleetList() {
		img, err := e.resolveImage(ctx, strings.TrimSuffix(f.Key(""), "."), f.AMI, f.InstanceType, e.runnerImageFamily(f))
		if err != nil {
			return err
		}
		e.Images.Runners[f.Name] = img
	}
	return nil
}

func (e *Env) resolveImage(ctx context.Context, section, ami, instanceType, family string) (Image, error) {
	key := section + "|" + ami + "|" + instanceType
	if ami == "" {
		// The manager and the machines usually run the same image: the
		// latest of one family and architecture is looked up once.
		if arch, err := e.Architecture(ctx, instanceType); err == nil {
			key = "latest|" + family + "|" + arch
		}
	} else {
		key = "ami|" + ami
	}
	e.factsMu.Lock()
	img, ok := e.images[key]
	e.factsMu.Unlock()
	if ok {
		return img, nil
	}
	img, err := e.lookupImage(ctx, section, ami, instanceType, family)
	if err == nil {
		e.factsMu.Lock()
		if e.images == nil {
			e.images = map[string]Image{}
		}
		e.images[key] = img
		e.factsMu.Unlock()
	}
	return img, err
}

func (e *Env) lookupImage(ctx context.Context, section, ami, instanceType, family string) (Image, error) {
	if ami == "" {
		arch, err := e.Architecture(ctx, instanceType)
		if err != nil {
			return Image{}, err
		}
		name := latestImageParameter(family, arch)
		p, err := e.StackParameter(ctx, name)
		if err == nil && p == nil {
			err = errors.New("no such parameter")
		}
		if err != nil {
			return Image{}, fmt.Errorf("find the latest %s AMI (%s) in %s: %w; set %s.ami to an AMI id instead", family, name, e.Region, err, section)
		}
		ami = aws.ToString(p.Value)
		e.Ledger.LearnFact(familyFact(ami), family)
	}
	// An AMI never changes: its root device and size, once read, are facts.
	fact, sizeFact, dateFact := "image/"+ami+"/root-device", "image/"+ami+"/root-size-gb", "image/"+ami+"/published"
	if root := e.Ledger.Fact(fact); root != "" {
		size, _ := strconv.Atoi(e.Ledger.Fact(sizeFact))
		return Image{ID: ami, RootDevice: root, RootSizeGB: size, Published: e.Ledger.Fact(dateFact)}, nil
	}
	out, err := e.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if awsapi.IsNotFound(err) || (err == nil && len(out.Images) == 0) {
		return Image{}, fmt.Errorf("%s.ami %s does not exist in %s (or is not shared with this account): use an AMI id from this region, or leave it empty for Amazon Linux 2023", section, ami, e.Region)
	}
	if err != nil {
		return Image{}, fmt.Errorf("describe AMI %s: %w", ami, err)
	}
	root := aws.ToString(out.Images[0].RootDeviceName)
	if root == "" {
		root = "/dev/xvda"
	}
	size := 0
	for _, b := range out.Images[0].BlockDeviceMappings {
		if aws.ToString(b.DeviceName) == root && b.Ebs != nil {
			size = int(aws.ToInt32(b.Ebs.VolumeSize))
		}
	}
	published := aws.ToString(out.Images[0].CreationDate)
	if len(published) >= len("2006-01-02") {
		published = published[:len("2006-01-02")]
	}
	e.Ledger.LearnFact(fact, root)
	e.Ledger.LearnFact(sizeFact, strconv.Itoa(size))
	if published != "" {
		e.Ledger.LearnFact(dateFact, published)
	}
	return Image{ID: ami, RootDevice: root, RootSizeGB: size, Published: published}, nil
}

// Architecture is the AMI architecture an instance type runs (arm64 for
// Graviton, else x86_64). Both configured types are asked for in one call
// and remembered for the run; a call that fails (one type is unknown) is
// made again per type, so the error names the type.
func (e *Env) Architecture(ctx context.Context, instanceType string) (string, error) {
	e.factsMu.Lock()
	defer e.factsMu.Unlock()
	if a, ok := e.archs[instanceType]; ok {
		return a, nil
	}
	// An instance type's architecture never changes: once read, a fact.
	if a := e.Ledger.Fact(archFact(instanceType)); a != "" {
		return a, nil
	}
	if e.archs == nil {
		e.archs = map[string]string{}
		types := []ec2types.InstanceType{ec2types.InstanceType(e.Cfg.Manager.InstanceType)}
		for _, t := range e.Cfg.RunnerTypes() {
			if t != e.Cfg.Manager.InstanceType {
				types = append(types, ec2types.InstanceType(t))
			}
		}
		if out, err := e.EC2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: types}); err == nil {
			for _, it := range out.InstanceTypes {
				e.learnArch(it)
			}
		}
		if a, ok := e.archs[instanceType]; ok {
			return a, nil
		}
	}
	out, err := e.EC2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{ec2types.InstanceType(instanceType)}})
	if err != nil || len(out.InstanceTypes) == 0 {
		return "", fmt.Errorf("instance type %s is not known in %s: check the spelling (e.g. t3.medium)", instanceType, e.Region)
	}
	e.learnArch(out.InstanceTypes[0])
	return e.archs[instanceType], nil
}

// learnArch keeps an instance type's architecture for the run and the
// state (e.factsMu held).
func (e *Env) learnArch(it ec2types.InstanceTypeInfo) {
	e.archs[string(it.InstanceType)] = archOf(it)
	e.Ledger.LearnFact(archFact(string(it.InstanceType)), archOf(it))
}

func archFact(instanceType string) string { return "instance-type/" + instanceType + "/architecture" }

func archOf(it ec2types.InstanceTypeInfo) string {
	if it.ProcessorInfo != nil && slices.Contains(it.ProcessorInfo.SupportedArchitectures, ec2types.ArchitectureTypeArm64) {
		return "arm64"
	}
	return "x86_64"
}

// imageChange writes a move from one image to another as the plan shows
// it: "image ami-old -> ami-new (published 2026-11-20)".
func imageChange(from string, to Image) string {
	s := fmt.Sprintf("image %s -> %s", from, to.ID)
	if to.Published != "" {
		s += " (published " + to.Published + ")"
	}
	return s
}
