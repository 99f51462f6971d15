package config

import (
	"fmt"
	"slices"
)

// knownRegions are the AWS regions of this release (commercial, GovCloud,
// China), from the SDK's endpoint partitions. A region name close to one
// of them but not in the list is a typo: without this check the first
// call fails with a DNS or credentials error that never names the region.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1",
	"cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
}

// RegionProblem says what is wrong with a region name, or "". A name that
// is far from every known region is let through: it may be newer than
// this release.
func RegionProblem(region string) string {
	if region == "" || slices.Contains(knownRegions, region) {
		return ""
	}
	if !regionPattern.MatchString(region) {
		return fmt.Sprintf("%q is not an AWS region name: use a code such as eu-west-1 or ap-northeast-1", region)
	}
	if s := Closest(region, knownRegions); s != "" {
		return fmt.Sprintf("%q is not an AWS region; did you mean %s?", region, s)
	}
	return ""
}
