package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones of runners.schedule, on machines without a zoneinfo database

	"github.com/gorhill/cronexpr"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// maxSSHSources keeps the public ACL's inbound rules (110 + i) below the
// return-traffic rules at 200 and, with the metrics sources, inside AWS's
// default 20 rules per direction (2 for the VPC, 4 for return traffic and
// path MTU).
const maxSSHSources = 10

var (
	stackPattern        = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	regionPattern       = bootstrap.RegionName
	amiPattern          = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	vpcIDPattern        = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	sgIDPattern         = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	bucketPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	stateKeyPattern     = regexp.MustCompile(`^[A-Za-z0-9!_.()/-]+$`)
	sshUserPattern      = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// AWS's tag characters: letters, digits, spaces and + - = . _ : / @
	// ("Tag naming limits and requirements" in the Tagging AWS Resources
	// guide). Spaces are \p{Zs} only: \p{Z} would also admit U+2028 and
	// U+2029, which YAML readers take for line breaks. No comma: the
	// docker+machine driver reads its tags as "key1,value1,key2,value2".
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Zs}\p{N}_.:/=+\-@]{1,128}$`)
	TagValuePattern = regexp.MustCompile(`^[\p{L}\p{Zs}\p{N}_.:/=+\-@]{0,256}$`)
	// kmsKeyPattern: the forms SSM's KeyId takes ("PutParameter" in the
	// Systems Manager API reference): a key id, a key ARN, an alias name or
	// an alias ARN.
	kmsKeyPattern = regexp.MustCompile(`^((mrk-)?[0-9a-fA-F-]{32,36}|alias/[a-zA-Z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/(mrk-)?[0-9a-fA-F-]{32,36}|alias/[a-zA-Z0-9/_-]{1,250}))$`)
)

// RequiredForUp lists the keys `up` needs that a teardown does not.
func (c *Config) RequiredForUp() []Problem {
	var ps []Problem
	if c.GitLab.URL == "" {
		ps = append(ps, Problem{Key: "gitlab.url", Msg: "is required for `up`: the address of your GitLab, e.g. https://gitlab.example.com"})
	}
	if c.GitLab.SecurityGroupID == "" {
		ps = append(ps, Problem{Key: "gitlab.security_group_id", Msg: "is required for `up`: the id of the security group of your GitLab server (it gets 443 from this stack's two Elastic IPs)"})
	}
	return ps
}

// Validate checks every value that can be checked without AWS and returns
// all problems at once.
func (c *Config) Validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if c.Stack == "" {
		add("stack", "is required: a name of 1-32 lowercase letters, digits and dashes, e.g. `stack: ci-runners`")
	} else if !stackPattern.MatchString(c.Stack) || strings.HasPrefix(c.Stack, "-") || strings.HasSuffix(c.Stack, "-") {
		add("stack", "%q is not a valid stack name: use 1-32 lowercase letters, digits and dashes, not starting or ending with a dash", c.Stack)
	}
	if p := RegionProblem(c.Region); p != "" {
		add("region", "%s", p)
	}
	for k, v := range c.Tags {
		switch {
		case !tagKeyPattern.MatchString(k):
			add("tags."+k, "%q is not a valid tag key: 1-128 letters, digits, spaces and _.:/=+-@ (no commas or quotes)", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:") || strings.HasPrefix(k, "provision:") || k == "Name":
			add("tags."+k, "%q is reserved (aws:, provision: and Name are set by the tool): choose another key", k)
		case !TagValuePattern.MatchString(v):
			add("tags."+k, "%q is not a valid tag value: at most 256 letters, digits, spaces and _.:/=+-@ (no commas or quotes)", v)
		}
	}
	ps = append(ps, c.Network.validate()...)
	ps = append(ps, c.GitLab.validate()...)
	ps = append(ps, c.Manager.validate()...)
	ps = append(ps, c.metricsSourceProblems()...)
	ps = append(ps, c.fleetProblems()...)
	if c.Cache.ExpireDays < 1 || c.Cache.ExpireDays > 3650 {
		add("cache.expire_days", "%d is out of range: use 1 to 3650 days", c.Cache.ExpireDays)
	}
	if !slices.Contains(LogRetentionDays, c.Logs.RetentionDays) {
		add("logs.retention_days", "CloudWatch Logs keeps log lines for one of %s days, not %d: use one of those", joinInts(LogRetentionDays), c.Logs.RetentionDays)
	}
	if c.Cache.S3 && !c.Autoscaler() {
		add("cache.s3", "only docker-autoscaler fleets get the cache bucket here: remove it, or use executor: docker-autoscaler")
	}
	if k := c.Secrets.KMSKeyID; k != "" {
		switch {
		case !kmsKeyPattern.MatchString(k):
			add("secrets.kms_key_id", "%q is not a KMS key: use a key id, a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), an alias name (alias/NAME) or an alias ARN, or leave it empty for a key of the stack's own", k)
		case strings.HasPrefix(k, "alias/aws/") || strings.Contains(k, ":alias/aws/"):
			add("secrets.kms_key_id", "%s is an AWS managed key, whose key policy lets every principal of the account use it through SSM: use a customer managed key, or leave it empty for a key of the stack's own", k)
		case strings.HasPrefix(k, "arn:") && c.Region != "" && strings.Split(k, ":")[3] != c.Region:
			add("secrets.kms_key_id", "%s is in %s, not in the stack's region %s: SSM uses keys of its own region only", k, strings.Split(k, ":")[3], c.Region)
		}
	}
	if s3 := c.State.S3; s3 != nil {
		if !bucketPattern.MatchString(s3.Bucket) {
			add("state.s3.bucket", "%q is not an S3 bucket name: 3-63 lowercase letters, digits, dots and dashes", s3.Bucket)
		}
		if len(s3.Key) > 1024 || !stateKeyPattern.MatchString(s3.Key) || strings.HasPrefix(s3.Key, "/") || strings.HasSuffix(s3.Key, "/") ||
			strings.Contains(s3.Key, "//") || slices.Contains(strings.Split(s3.Key, "/"), ".") || slices.Contains(strings.Split(s3.Key, "/"), "..") {
			// The key is also a resource of the operator policy: * ? or $
			// there would widen it to other objects of the bucket.
			add("state.s3.key", "%q is not an object key for the state: use a path of letters, digits and !_.()/- such as runners/%s.json (no *, ?, $, empty or dot segments)", s3.Key, c.Stack)
		}
		if s3.Region != "" && !regionPattern.MatchString(s3.Region) {
			add("state.s3.region", "%q is not an AWS region name", s3.Region)
		}
	}
	return ps
}

func (n *NetworkConfig) validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: "network." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if n.VpcID != "" && !vpcIDPattern.MatchString(n.VpcID) {
		add("vpc_id", "%q is not a VPC id: use the form vpc-0123456789abcdef0, or leave it empty to create a VPC", n.VpcID)
	}
	seen := map[string]bool{}
	for i, e := range n.Endpoints {
		key := fmt.Sprintf("endpoints[%d]", i)
		switch {
		case e == "s3":
			add(key, "s3 always has a gateway endpoint (free): remove it from the list")
		case InterfaceEndpoints[e] == nil:
			add(key, "%q is not an endpoint provision makes: use ssm, ecr, sts, ec2, autoscaling or logs", e)
		case seen[e]:
			add(key, "%s is listed twice", e)
		}
		seen[e] = true
	}
	// An interface endpoint's private DNS name is answered for the whole
	// VPC (AWS PrivateLink: "private DNS names" of interface endpoints),
	// not for the subnets it has interfaces in: in a VPC that others use,
	// every workload's calls to the service would go through this stack's
	// endpoint, stop when down removes it, and the create fails where an
	// endpoint with private DNS for the service exists already.
	if n.VpcID != "" && len(n.Endpoints) > 0 && !n.EndpointsVPCWideDNS {
		add("endpoints", "in an existing VPC (network.vpc_id), an endpoint's private DNS applies to the whole VPC: every workload in %s would reach %s through this stack's endpoints, and lose them when `provision down` removes them (a VPC that has such an endpoint already refuses a second one). Set network.endpoints_vpc_wide_dns: true to accept that, or remove network.endpoints", n.VpcID, strings.Join(n.Endpoints, ", "))
	}
	if n.ACLRuleQuota < 20 || n.ACLRuleQuota > 40 {
		add("acl_rule_quota", "%d is not a quota AWS has: \"Rules per network ACL\" is 20 unless raised, and 40 at most", n.ACLRuleQuota)
	}
	if n.AvailabilityZone != "" && !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+[a-z]$`).MatchString(n.AvailabilityZone) {
		add("availability_zone", "%q is not a zone name: use a name such as ap-northeast-1a, or leave it empty to pick one", n.AvailabilityZone)
	}
	pub, pubErr := parseIPv4Prefix(n.PublicSubnetCIDR)
	priv, privErr := parseIPv4Prefix(n.PrivateSubnetCIDR)
	if pubErr != nil {
		add("public_subnet_cidr", "%v", pubErr)
	}
	if privErr != nil {
		add("private_subnet_cidr", "%v", privErr)
	}
	for key, p := range map[string]netip.Prefix{"public_subnet_cidr": pub, "private_subnet_cidr": priv} {
		if p.IsValid() && (p.Bits() < 16 || p.Bits() > 28) {
			add(key, "%s: an AWS subnet must be between /16 and /28", p)
		}
	}
	if pubErr == nil && privErr == nil && pub.Overlaps(priv) {
		add("private_subnet_cidr", "%s overlaps public_subnet_cidr %s: the two subnets must be disjoint", priv, pub)
	}
	n.validateZones(add)
	// In an existing VPC, the CIDR checks against the VPC happen at preflight.
	if n.VpcID == "" {
		vpc, err := parseIPv4Prefix(n.CIDR)
		switch {
		case err != nil:
			add("cidr", "%v", err)
		case vpc.Bits() < 16 || vpc.Bits() > 28:
			add("cidr", "%s: an AWS VPC block must be between /16 and /28", vpc)
		default:
			if pubErr == nil && !ContainsPrefix(vpc, pub) {
				add("public_subnet_cidr", "%s is not inside the VPC block %s: choose a subnet of network.cidr", pub, vpc)
			}
			if privErr == nil && !ContainsPrefix(vpc, priv) {
				add("private_subnet_cidr", "%s is not inside the VPC block %s: choose a subnet of network.cidr", priv, vpc)
			}
		}
	}
	return ps
}

func (g *GitLabConfig) validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: "gitlab." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if g.URL != "" {
		if msg := gitLabURLProblem(g.URL); msg != "" {
			add("url", "%s", msg)
		}
	}
	if g.SecurityGroupID != "" && !sgIDPattern.MatchString(g.SecurityGroupID) {
		add("security_group_id", "%q is not a security group id: use the form sg-0123456789abcdef0", g.SecurityGroupID)
	}
	if len(g.SSHSourceCIDRs) > maxSSHSources {
		add("ssh_source_cidrs", "lists %d blocks; at most %d fit in the network ACL: summarize them into wider blocks", len(g.SSHSourceCIDRs), maxSSHSources)
	}
	for _, p := range sourceProblems("gitlab.ssh_source_cidrs", "SSH", g.SSHSourceCIDRs) {
		ps = append(ps, p)
	}
	if cr := g.CreateRunner; cr != nil {
		switch cr.RunnerType {
		case "instance_type":
		case "group_type":
			if cr.GroupID <= 0 {
				add("create_runner.group_id", "runner_type group_type needs the numeric id of the group")
			}
		case "project_type":
			if cr.ProjectID <= 0 {
				add("create_runner.project_id", "runner_type project_type needs the numeric id of the project")
			}
		default:
			add("create_runner.runner_type", "%q is not a runner type: use instance_type, group_type or project_type", cr.RunnerType)
		}
		// GitLab answers 400 "Tags list can not be empty when runner is not
		// allowed to pick untagged jobs" (the runner model's validation);
		// found here, it costs no AWS change.
		if len(cr.TagList) == 0 && cr.RunUntagged != nil && !*cr.RunUntagged {
			add("create_runner.run_untagged", "is false but tag_list is empty: GitLab refuses a runner that may pick no job at all. List the tags its jobs use in tag_list, or set run_untagged: true (the default)")
		}
		for i, tag := range cr.TagList {
			if strings.TrimSpace(tag) == "" || strings.Contains(tag, ",") {
				add(fmt.Sprintf("create_runner.tag_list[%d]", i), "%q is not a tag: tags are non-empty and contain no commas", tag)
			}
		}
	}
	return ps
}

// gitLabURLPattern is the only shape of gitlab.url: a scheme, a host
// (a DNS name, an IPv4 address or an IPv6 one in brackets), a port and
// a plain path (GitLab under a relative URL root, e.g. /gitlab). No
// query, fragment, credentials, percent-escapes or quotes: the address
// reaches config.toml and the manager's boot, and nothing in it may mean
// anything but an address.
var gitLabURLPattern = regexp.MustCompile(`^https?://([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*/?$`)

// gitLabURLProblem says what is wrong with gitlab.url ("": nothing).
func gitLabURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Sprintf("%q is not a GitLab address: use the form https://gitlab.example.com", raw)
	case u.User != nil:
		return "must not contain credentials: tokens come from GITLAB_RUNNER_TOKEN / GITLAB_TOKEN"
	case !gitLabURLPattern.MatchString(raw):
		return fmt.Sprintf("%q is not a plain address: use https://HOST[:PORT][/PATH] with a path of letters, digits and ._~- only (no query, fragment, spaces, quotes or %%-escapes), e.g. https://gitlab.example.com", raw)
	case u.Port() != "" && !validPort(u.Port()):
		return fmt.Sprintf("%q has no valid port: use 1 to 65535", raw)
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		// Runner tokens, job logs and CI variables would cross the
		// internet in clear text.
		return fmt.Sprintf("%q uses http: runner tokens and job data would travel unencrypted. Use https://%s (http is accepted only for a GitLab on this machine: localhost, 127.0.0.1, ::1)", raw, u.Host)
	}
	return ""
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// Docker's image reference grammar (the distribution project's
// reference package, which Docker and gitlab-runner parse images with):
// [registry[:port]/]path[:tag][@digest], lowercase path components.
var imageReferencePattern = func() *regexp.Regexp {
	const (
		alnum      = `[a-z0-9]+`
		separator  = `(?:[._]|__|[-]+)`
		component  = alnum + `(?:` + separator + alnum + `)*`
		domainPart = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		host       = `(?:` + domainPart + `(?:\.` + domainPart + `)*|\[[a-fA-F0-9:]+\])`
		domain     = host + `(?::[0-9]+)?`
		name       = `(?:` + domain + `/)?` + component + `(?:/` + component + `)*`
		tag        = `[\w][\w.-]{0,127}`
		digest     = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^` + name + `(?::` + tag + `)?(?:@` + digest + `)?$`)
}()

// sourceProblems checks a list of addresses a port is opened to: each a
// CIDR without host bits, none the whole internet, nor the list as a
// whole (0.0.0.0/1 and 128.0.0.0/1 are the internet too).
func sourceProblems(key, what string, cidrs []string) []Problem {
	var ps []Problem
	var valid []netip.Prefix
	for i, s := range cidrs {
		at := fmt.Sprintf("%s[%d]", key, i)
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			ps = append(ps, Problem{Key: at, Msg: fmt.Sprintf("%q is not a CIDR: write an address with its prefix length, e.g. 203.0.113.10/32", s)})
		case p.Addr().Is4In6():
			ps = append(ps, Problem{Key: at, Msg: fmt.Sprintf("%s is an IPv4 block written as IPv6: write it as %s/%d", s, p.Addr().Unmap(), p.Bits()-96)})
		case p.Bits() == 0:
			ps = append(ps, Problem{Key: at, Msg: fmt.Sprintf("%s would open %s to the whole internet: list the addresses that need it, e.g. 203.0.113.10/32", s, what)})
		case p.Masked() != p:
			ps = append(ps, Problem{Key: at, Msg: fmt.Sprintf("%s has host bits set: did you mean %s?", s, p.Masked())})
		default:
			valid = append(valid, p)
		}
	}
	for _, internet := range internets {
		if covers(valid, internet) {
			ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf("together these blocks cover %s, the whole %s internet, and would open %s to it: list the addresses that need it, e.g. 203.0.113.10/32",
				internet, map[bool]string{true: "IPv4", false: "IPv6"}[internet.Addr().Is4()], what)})
		}
	}
	return ps
}

// internets are the whole IPv4 internet and the IPv6 one: every public
// IPv6 address is in 2000::/3, the global unicast space.
var internets = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("2000::/3")}

// metricsSourceProblems refuses metrics sources that reach into the
// private subnet: a job there could then scrape the manager's metrics and
// debug endpoints, which show every job's details.
func (c *Config) metricsSourceProblems() []Problem {
	priv, err := netip.ParsePrefix(c.Network.PrivateSubnetCIDR)
	if err != nil {
		return nil // reported as the subnet's own problem
	}
	var ps []Problem
	for i, s := range c.Manager.MetricsCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is6() {
			// gitlab-runner listens on the manager's private IPv4 address
			// (listen_address), so an IPv6 source would be let through the
			// rules and then find nothing listening.
			ps = append(ps, Problem{Key: fmt.Sprintf("manager.metrics_cidrs[%d]", i),
				Msg: fmt.Sprintf("%s is an IPv6 block, but the metrics endpoint listens on the manager's IPv4 address only: list the IPv4 addresses your Prometheus scrapes from", s)})
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil && p.Overlaps(priv) {
			ps = append(ps, Problem{Key: fmt.Sprintf("manager.metrics_cidrs[%d]", i),
				Msg: fmt.Sprintf("%s overlaps the private subnet %s, where the jobs run: jobs must not reach the manager's metrics. List the addresses of your Prometheus instead", s, priv)})
		}
	}
	return ps
}

// maxMetricsSources: the public ACL's inbound rules for metrics (130 + i)
// share AWS's default 20 rules per direction with the SSH sources.
const maxMetricsSources = 4

func (m *ManagerConfig) validate() []Problem {
	var ps []Problem
	if d, err := time.ParseDuration(m.DrainTimeout); err != nil || d < 0 || d > 24*time.Hour {
		ps = append(ps, Problem{Key: "manager.drain_timeout", Msg: fmt.Sprintf("%q is not a duration up to 24h: use a Go duration such as 30m", m.DrainTimeout)})
	}
	if m.ImageUpdates != "" && m.ImageUpdates != ImageUpdatesLatest && m.ImageUpdates != ImageUpdatesPinned {
		ps = append(ps, Problem{Key: "manager.image_updates", Msg: fmt.Sprintf("%q is not a choice: use latest (a new manager on the newest image at up) or pinned", m.ImageUpdates)})
	}
	if len(m.MetricsCIDRs) > maxMetricsSources {
		ps = append(ps, Problem{Key: "manager.metrics_cidrs", Msg: fmt.Sprintf("lists %d blocks; at most %d fit in the network ACL: summarize them into wider blocks", len(m.MetricsCIDRs), maxMetricsSources)})
	}
	ps = append(ps, sourceProblems("manager.metrics_cidrs", "the metrics endpoint", m.MetricsCIDRs)...)
	if !instanceTypePattern.MatchString(m.InstanceType) {
		ps = append(ps, Problem{Key: "manager.instance_type", Msg: fmt.Sprintf("%q is not an instance type: use a name such as t3.micro", m.InstanceType)})
	}
	if m.AMI != "" && !amiPattern.MatchString(m.AMI) {
		ps = append(ps, Problem{Key: "manager.ami", Msg: fmt.Sprintf("%q is not an AMI id: use the form ami-0123456789abcdef0, or leave it empty for the latest Amazon Linux 2023", m.AMI)})
	}
	if m.RunnerVersion != "" && !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(m.RunnerVersion) {
		ps = append(ps, Problem{Key: "manager.runner_version", Msg: fmt.Sprintf("%q is not a gitlab-runner version: use the form 18.5.0, or leave it empty for the latest", m.RunnerVersion)})
	}
	return ps
}

func (f Fleet) validate() []Problem {
	r := &f.RunnersConfig
	var ps []Problem
	add := func(key, format string, args ...any) {
		// The messages name the fleet's own keys (fleets.NAME.ami).
		msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "runners.", f.prefix())
		ps = append(ps, Problem{Key: f.Key(key), Msg: msg})
	}
	if r.Executor != ExecutorDockerAutoscaler && r.Executor != ExecutorDockerMachine {
		add("executor", "%q is not supported: use docker-autoscaler (recommended) or docker+machine (legacy)", r.Executor)
	}
	if !instanceTypePattern.MatchString(r.InstanceType) {
		add("instance_type", "%q is not an instance type: use a name such as t3.medium", r.InstanceType)
	}
	if r.AMI != "" && !amiPattern.MatchString(r.AMI) {
		if r.Executor == ExecutorDockerMachine {
			add("ami", "%q is not an AMI id: use the form ami-0123456789abcdef0 of an image docker-machine can provision (Ubuntu, Debian, RHEL, CentOS or Fedora; not Amazon Linux), or leave it empty for the driver's default Ubuntu image", r.AMI)
		} else {
			add("ami", "%q is not an AMI id: use the form ami-0123456789abcdef0, or leave it empty for the latest Amazon Linux 2023", r.AMI)
		}
	}
	if r.MaxUseCount < 0 {
		add("max_use_count", "%d is negative: use 1 (a fresh machine for every job, the default), a larger number, or 0 for unlimited", r.MaxUseCount)
	}
	// docker-machine's provisioners (libmachine) know Ubuntu, Debian, RHEL,
	// CentOS, Fedora and a few others, but not Amazon Linux, and the
	// amazonec2 driver logs in as ubuntu unless told otherwise.
	switch {
	case r.SSHUser != "" && r.Executor != ExecutorDockerMachine:
		add("ssh_user", "only docker+machine uses it (docker-autoscaler logs in as ec2-user on Amazon Linux): remove it")
	case r.SSHUser != "" && !sshUserPattern.MatchString(r.SSHUser):
		add("ssh_user", "%q is not a user name: use the login user of runners.ami, e.g. ubuntu, admin (Debian) or ec2-user (RHEL)", r.SSHUser)
	}
	positive := []struct {
		key string
		v   int
		max int
	}{{"max_instances", r.MaxInstances, 1000}, {"capacity_per_instance", r.CapacityPerInstance, 100}, {"concurrent", r.Concurrent, 10000}}
	for _, p := range positive {
		if p.v < 1 || p.v > p.max {
			add(p.key, "%d is out of range: use a number from 1 to %d", p.v, p.max)
		}
	}
	if r.IdleCount < 0 {
		add("idle_count", "%d is negative: use 0 to scale to zero when idle", r.IdleCount)
	}
	if d, err := time.ParseDuration(r.IdleTime); err != nil || d < 0 {
		add("idle_time", "%q is not a duration: use a Go duration such as 5m or 300s", r.IdleTime)
	}
	switch {
	case r.Image == "":
		add("image", "must not be empty: the default job image, e.g. alpine:latest")
	case len(r.Image) > 255 || !imageReferencePattern.MatchString(r.Image):
		add("image", "%q is not a Docker image reference: use [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST] with a lowercase name, e.g. alpine:latest or registry.example.com/ci/node:22", r.Image)
	}
	if r.VolumeSizeGB < 8 || r.VolumeSizeGB > 16384 {
		add("volume_size_gb", "%d is out of range: use 8 to 16384 (GiB)", r.VolumeSizeGB)
	}
	if r.OnDemandPercentage < 0 || r.OnDemandPercentage > 100 {
		add("on_demand_percentage", "%d is out of range: use 0 (all Spot) to 100 (all on demand)", r.OnDemandPercentage)
	}
	if r.ImageUpdates != ImageUpdatesLatest && r.ImageUpdates != ImageUpdatesPinned {
		add("image_updates", "%q is not a choice: use latest (new machines get the newest image at each up) or pinned", r.ImageUpdates)
	}
	if len(r.InstanceTypes) > 0 && r.Executor != ExecutorDockerAutoscaler {
		add("instance_types", "only docker-autoscaler launches several types (docker+machine launches runners.instance_type): remove it")
	}
	if q := r.InstanceRequirements; q != nil {
		switch {
		case r.Executor != ExecutorDockerAutoscaler:
			add("instance_requirements", "only docker-autoscaler's group selects types by attributes (docker+machine launches runners.instance_type): remove it")
		case len(r.InstanceTypes) > 0:
			add("instance_requirements", "is an alternative to instance_types: keep one of them")
		}
		for _, g := range []struct {
			key      string
			r        Range
			min, max int
		}{{"vcpu", q.VCPU, 1, 512}, {"memory_mib", q.MemoryMiB, 512, 4 << 20}} {
			switch {
			case g.r.Min < g.min || g.r.Min > g.max:
				add("instance_requirements."+g.key+".min", "%d is out of range: give a least value from %d to %d", g.r.Min, g.min, g.max)
			case g.r.Max != 0 && g.r.Max < g.r.Min:
				add("instance_requirements."+g.key+".max", "%d is below min %d: give a greater one, or 0 for no upper limit", g.r.Max, g.r.Min)
			}
		}
		if q.Architecture != "" && q.Architecture != "x86_64" && q.Architecture != "arm64" {
			add("instance_requirements.architecture", "%q is not an architecture: use x86_64 or arm64", q.Architecture)
		}
	}
	if len(r.InstanceTypes) > 19 {
		add("instance_types", "lists %d types; with runners.instance_type at most 20 are taken here: keep the ones you prefer", len(r.InstanceTypes))
	}
	seen := map[string]bool{}
	for i, t := range r.InstanceTypes {
		if !instanceTypePattern.MatchString(t) {
			add(fmt.Sprintf("instance_types[%d]", i), "%q is not an instance type: use a name such as t3.medium", t)
		}
		if seen[t] || t == r.InstanceType {
			add(fmt.Sprintf("instance_types[%d]", i), "%s is listed twice (runners.instance_type comes first by itself)", t)
		}
		seen[t] = true
	}
	if len(r.Schedule) > 0 && r.Executor != ExecutorDockerAutoscaler {
		add("schedule", "only docker-autoscaler has autoscaler policies: remove it, or use executor: docker-autoscaler")
	}
	for i, s := range r.Schedule {
		ps = append(ps, s.validate(f.Key(fmt.Sprintf("schedule[%d]", i)))...)
	}
	return ps
}

// validate checks a period as the docker-autoscaler executor takes it.
// gitlab-runner hands [[runners.autoscaler.policy]] periods to the
// fleeting taskscaler (executors/internal/autoscaler, ConfigureSchedule),
// whose documented syntax is unix cron: five fields, minute hour
// day-of-month month day-of-week. docker+machine's parser (gorhill/cronexpr)
// also takes seconds and years (six or seven fields) and Quartz's ? L W #:
// those are refused here, since the taskscaler's syntax does not define
// them. What is left is checked with cronexpr for ranges and names; the
// timezone with Go's time.LoadLocation, as gitlab-runner does.
func (s SchedulePeriod) validate(at string) []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: at + key, Msg: fmt.Sprintf(format, args...)})
	}
	if len(s.Periods) == 0 {
		add(".periods", "is empty: give at least one cron expression, e.g. \"* 8-19 * * mon-fri\" (weekdays, 8:00 to 19:59)")
	}
	for i, p := range s.Periods {
		if n := len(strings.Fields(p)); n != 5 {
			add(fmt.Sprintf(".periods[%d]", i), "%q has %d fields: the autoscaler takes unix cron, five fields (minute hour day-of-month month day-of-week), e.g. \"* 8-19 * * mon-fri\"", p, n)
			continue
		}
		if c := strings.IndexAny(p, "?LW#"); c >= 0 {
			add(fmt.Sprintf(".periods[%d]", i), "%q uses %q, which unix cron does not have: write the days as ranges and lists, e.g. \"* 8-19 * * mon-fri\"", p, p[c:c+1])
			continue
		}
		if _, err := cronexpr.Parse(p); err != nil {
			add(fmt.Sprintf(".periods[%d]", i), "%q is not a cron expression (%v): use minute hour day-of-month month day-of-week, e.g. \"* 8-19 * * mon-fri\"", p, err)
		}
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" {
		add(".timezone", "%q is not a time zone: use an IANA name such as Asia/Tokyo or Europe/Berlin, or leave it empty for UTC", s.Timezone)
	}
	if s.IdleCount < 0 {
		add(".idle_count", "%d is negative: use 0 or more", s.IdleCount)
	}
	if d, err := time.ParseDuration(s.IdleTime); err != nil || d < time.Second {
		add(".idle_time", "%q is not a duration of a second or more: use a Go duration such as 20m", s.IdleTime)
	}
	return ps
}

// isLoopbackHost reports whether host names this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// validateZones checks network.zones, network.nat and every zone's ranges:
// valid, inside the VPC's range, disjoint, and the first zone's given once.
func (n *NetworkConfig) validateZones(add func(key, format string, args ...any)) {
	if n.Zones < 0 || n.Zones > MaxZones {
		add("zones", "%d zones: a stack spreads over 1 to %d zones (0 or absent: the default)", n.Zones, MaxZones)
		return
	}
	if n.NAT != NATSingle && n.NAT != NATPerZone {
		add("nat", "%q is not a NAT layout: use single (one NAT gateway) or per_zone (one in each zone)", n.NAT)
	}
	def := Defaults().Network
	for _, l := range []struct {
		key, single, singleDefault string
		list                       []string
	}{{"public_subnet_cidr", n.PublicSubnetCIDR, def.PublicSubnetCIDR, n.PublicSubnetCIDRs}, {"private_subnet_cidr", n.PrivateSubnetCIDR, def.PrivateSubnetCIDR, n.PrivateSubnetCIDRs}} {
		if len(l.list) > 0 && l.single != l.singleDefault && l.single != l.list[0] {
			add(l.key, "%s differs from %ss[0] %s: the first zone's range is given once; remove %s or make it equal", l.single, l.key, l.list[0], l.key)
		}
		for i, c := range l.list {
			p, err := parseIPv4Prefix(c)
			switch {
			case err != nil:
				add(fmt.Sprintf("%ss[%d]", l.key, i), "%v", err)
			case p.Bits() < 16 || p.Bits() > 28:
				add(fmt.Sprintf("%ss[%d]", l.key, i), "%s: an AWS subnet must be between /16 and /28", p)
			}
		}
	}
	if len(n.PublicSubnetCIDRs) > 0 && n.Zones > 0 && len(n.PublicSubnetCIDRs) != n.Zones {
		add("public_subnet_cidrs", "lists %d ranges for %d zones (network.zones): list one per zone", len(n.PublicSubnetCIDRs), n.Zones)
		return
	}
	if len(n.PublicSubnetCIDRs) == 0 && n.VpcID == "" && n.ZoneCount() > 1 {
		// Further zones are carved from these: a bad one is reported
		// under its own key, once.
		for _, c := range []string{n.CIDR, n.PublicSubnetCIDR, n.PrivateSubnetCIDR} {
			if _, err := parseIPv4Prefix(c); err != nil {
				return
			}
		}
	}
	zs, err := n.Subnets()
	if err != nil {
		add("zones", "%v", err)
		return
	}
	// Every range against every other, and inside the VPC's own range.
	type named struct {
		key string
		p   netip.Prefix
	}
	var all []named
	for i, z := range zs {
		pubKey, privKey := fmt.Sprintf("public_subnet_cidrs[%d]", i), fmt.Sprintf("private_subnet_cidrs[%d]", i)
		if len(n.PublicSubnetCIDRs) == 0 {
			pubKey, privKey = "public_subnet_cidr", "private_subnet_cidr"
			if i > 0 {
				pubKey, privKey = "zones", "zones"
			}
		}
		for _, c := range []named{{pubKey, prefixOrZero(z.Public)}, {privKey, prefixOrZero(z.Private)}} {
			if c.p.IsValid() {
				all = append(all, c)
			}
		}
	}
	vpc, vpcErr := parseIPv4Prefix(n.CIDR)
	for i, a := range all {
		if n.VpcID == "" && vpcErr == nil && a.key != "public_subnet_cidr" && a.key != "private_subnet_cidr" && !ContainsPrefix(vpc, a.p) {
			add(a.key, "%s is not inside the VPC block %s: choose a subnet of network.cidr", a.p, vpc)
		}
		for _, b := range all[:i] {
			if a.p.Overlaps(b.p) && !(a.key == "private_subnet_cidr" && b.key == "public_subnet_cidr") {
				add(a.key, "%s overlaps %s (%s): every zone's subnets must be disjoint", a.p, b.p, b.key)
			}
		}
	}
	return
}

func prefixOrZero(s string) netip.Prefix {
	p, _ := netip.ParsePrefix(s)
	return p
}

// joinInts is "1, 3 or 5".
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
