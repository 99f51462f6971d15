package preflight

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// PreflightError lists every reason `up` will not start.
type PreflightError struct{ Problems []string }

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight found %s; nothing was changed:", config.Count(len(e.Problems), "problem"))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + strings.ReplaceAll(p, "\n", "\n    "))
	}
	return b.String()
}

// Preflight checks everything `up` needs before the first change and
// reports every failure at once. It only reads; on success the environment
// knows its account, zone, images and the paths to GitLab.
func Preflight(ctx context.Context, e *stack.Env) error {
	var problems []string
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, p := range e.Cfg.RequiredForUp() {
		add(errors.New(p.Key + " " + p.Msg))
	}
	// Without a reachable region and working credentials no other AWS
	// check can say anything useful.
	if err := checkRegion(ctx, e); err != nil {
		add(err)
		add(checkToken(ctx, e))
		return &PreflightError{Problems: problems}
	}
	if err := Identify(ctx, e); err != nil {
		add(err)
		add(checkToken(ctx, e))
		return &PreflightError{Problems: problems}
	}
	typesOK := true
	types := []struct{ key, value string }{{"manager.instance_type", e.Cfg.Manager.InstanceType}}
	for _, f := range e.Cfg.FleetList() {
		types = append(types, struct{ key, value string }{f.Key("instance_type"), f.InstanceType})
	}
	for _, t := range types {
		if _, err := e.Architecture(ctx, t.value); err != nil {
			typesOK = false
			add(fmt.Errorf("%s: %w", t.key, err))
		}
	}
	if typesOK {
		add(checkRunnerTypes(ctx, e))
	}
	if typesOK {
		add(ResolveZone(ctx, e))
		if err := e.ResolveImages(ctx); err != nil {
			add(err)
		} else {
			add(checkRootVolume(e))
		}
	}
	add(checkVPC(ctx, e))
	warnSpotPools(e)
	checkGitLabPaths(ctx, e)
	add(checkGitLabGroup(ctx, e))
	add(checkAddressQuota(ctx, e))
	add(checkSpotRole(ctx, e))
	add(e.CheckBoundary(ctx))
	add(checkDefaultEBSKey(ctx, e))
	add(e.CheckSecretsKey(ctx))
	add(checkToken(ctx, e))
	if len(problems) > 0 {
		return &PreflightError{Problems: problems}
	}
	return nil
}

// checkRunnerTypes: a fleet's group launches one image, so every type of
// its instance_types must run its instance_type's architecture (each
// fleet its own: an Arm fleet beside an x86 one is fine).
func checkRunnerTypes(ctx context.Context, e *stack.Env) error {
	var problems []string
	for _, f := range e.Cfg.FleetList() {
		want, err := e.Architecture(ctx, f.InstanceType)
		if err != nil {
			return err
		}
		// Windows Server on EC2 runs on x86_64 only (no arm64 Windows AMI).
		if f.Windows() && want != "x86_64" {
			problems = append(problems, fmt.Sprintf("%s %s runs %s, but Windows Server on EC2 runs on x86_64 only: choose an x86_64 type for this Windows fleet", f.Key("instance_type"), f.InstanceType, want))
		}
		if q := f.InstanceRequirements; q != nil && q.Architecture != "" && q.Architecture != want {
			problems = append(problems, fmt.Sprintf("%s is %s but %s %s runs %s, and the machines boot its image: name a type of %s, or leave the architecture out", f.Key("instance_requirements.architecture"), q.Architecture, f.Key("instance_type"), f.InstanceType, want, q.Architecture))
		}
		for i, t := range f.InstanceTypes {
			arch, err := e.Architecture(ctx, t)
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s: %v", f.Key(fmt.Sprintf("instance_types[%d]", i)), err))
			case arch != want:
				problems = append(problems, fmt.Sprintf("%s: %s runs %s but %s %s runs %s, and the machines boot one image: list types of one architecture", f.Key(fmt.Sprintf("instance_types[%d]", i)), t, arch, f.Key("instance_type"), f.InstanceType, want))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// minSpotPools is the fewest Spot capacity pools (an instance type in a
// zone) worth running CI on: AWS's Spot best practices ask for
// flexibility across at least ten types and every zone; six is the
// floor below which one pool's shortage stalls jobs.
const minSpotPools = 6

// SpotWarning says what a Spot group lacks, or "". Auto Scaling does not
// fall back from Spot to on-demand: a group with 0 % on demand keeps
// asking for Spot in its pools while jobs wait, and with few pools one
// shortage is enough (Amazon EC2 Auto Scaling User Guide, "Mixed
// instances groups": the on-demand share is launched as such, the rest
// only as Spot).
func SpotWarning(cfg *config.Config) string {
	var warnings []string
	for _, f := range cfg.FleetList() {
		if w := fleetSpotWarning(cfg, f); w != "" {
			warnings = append(warnings, w)
		}
	}
	return strings.Join(warnings, "\n")
}

// fleetSpotWarning is SpotWarning for one fleet.
func fleetSpotWarning(cfg *config.Config, f config.Fleet) string {
	if !f.Autoscaler() || !f.Spot {
		return ""
	}
	var lacks []string
	if pools := cfg.SpotPools(f); pools > 0 && pools < minSpotPools {
		lacks = append(lacks, fmt.Sprintf("%s (%s in %s), fewer than %d: list more %s, use %s, or more network.zones",
			config.Count(pools, "Spot pool"), config.Count(len(f.RunnerTypes()), "type"), config.Count(cfg.Network.ZoneCount(), "zone"), minSpotPools, f.Key("instance_types"), f.Key("instance_requirements")))
	}
	if f.OnDemandPercentage == 0 {
		lacks = append(lacks, fmt.Sprintf("no on-demand share (%s: 0): Auto Scaling does not fall back to on-demand when Spot is short, so jobs wait until Spot capacity returns", f.Key("on_demand_percentage")))
	}
	if len(lacks) == 0 {
		return ""
	}
	return f.Key("spot") + ": " + strings.Join(lacks, "; ") + ". Retry interrupted jobs with `retry: {max: 2, when: [runner_system_failure]}` in .gitlab-ci.yml"
}

func warnSpotPools(e *stack.Env) {
	if w := SpotWarning(e.Cfg); w != "" {
		e.Log.Warn(w)
	}
}

// checkGitLabPaths learns whether GitLab has IPv6 (its group then also
// admits the stack's IPv6 sources) and warns about private addresses.
func checkGitLabPaths(ctx context.Context, e *stack.Env) {
	paths, err := ResolveGitLab(ctx, e)
	if err != nil {
		e.Log.Warn(fmt.Sprintf("gitlab.url: %v; the manager resolves it again at boot", err))
		return
	}
	e.GitLab6 = paths.IPv6
	if len(paths.Private) > 0 {
		e.Log.Warn(privateGitLabWarning(e.Cfg.GitLab.URL, paths.Private))
	}
}

// checkRegion asks the region's own EC2 endpoint for the list of regions:
// a misspelt region has no endpoint at all.
func checkRegion(ctx context.Context, e *stack.Env) error {
	// A state that recorded a VPC in this region proves the region works
	// for this account (the commands refuse a state of another region).
	if e.Ledger.Get(string(stack.StepVPC)).RecordedID() != "" {
		return nil
	}
	out, err := e.EC2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)}, func(o *ec2.Options) { o.RetryMaxAttempts = 3 })
	switch {
	case err == nil:
	case isCredentialError(err):
		return fmt.Errorf("AWS credentials do not work (%w): configure them with `aws configure`, AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	case awsapi.IsTransient(err):
		return fmt.Errorf("region %q does not exist or its EC2 endpoint does not answer (%w): check `region:`, --region or AWS_REGION, and your network", e.Region, err)
	default:
		return fmt.Errorf("list the regions of the account: %w", err)
	}
	var names []string
	for _, r := range out.Regions {
		if aws.ToString(r.RegionName) == e.Region {
			if aws.ToString(r.OptInStatus) == "not-opted-in" {
				return fmt.Errorf("region %s is not enabled for this account: enable it (Account settings, AWS Regions) or choose another region", e.Region)
			}
			return nil
		}
		names = append(names, aws.ToString(r.RegionName))
	}
	return fmt.Errorf("region %q does not exist: use one of %s", e.Region, strings.Join(names, ", "))
}

func checkVPC(ctx context.Context, e *stack.Env) error {
	id := e.Cfg.Network.VpcID
	if id == "" {
		return nil
	}
	out, err := e.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if awsapi.IsNotFound(err) || (err == nil && len(out.Vpcs) == 0) {
		return fmt.Errorf("network.vpc_id %s does not exist in %s: check the id and the region, or leave vpc_id empty to create a VPC", id, e.Region)
	}
	if err != nil {
		return fmt.Errorf("describe vpc %s: %w", id, err)
	}
	return stack.CheckVPCFits(e, &out.Vpcs[0])
}

func checkGitLabGroup(ctx context.Context, e *stack.Env) error {
	id := e.Cfg.GitLab.SecurityGroupID
	if id == "" {
		return nil
	}
	g, err := e.GitLabGroup(ctx)
	if err != nil {
		return err
	}
	if g == nil {
		return fmt.Errorf("gitlab.security_group_id %s does not exist in %s: use the id of the security group attached to your GitLab server, in this region", id, e.Region)
	}
	return nil
}

// checkAddressQuota makes sure the two Elastic IPs (minus those the stack
// already has) fit in the account's quota.
func checkAddressQuota(ctx context.Context, e *stack.Env) error {
	addrs, err := e.RegionAddresses(ctx)
	if err != nil {
		return fmt.Errorf("list Elastic IPs: %w", err)
	}
	need := 2
	for _, a := range addrs {
		if stack.TagValue(a.Tags, stack.TagStack) == e.Cfg.Stack {
			need--
		}
	}
	if need <= 0 {
		return nil // both exist: the quota no longer matters
	}
	attrs, err := e.EC2.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []ec2types.AccountAttributeName{"vpc-max-elastic-ips"}})
	if err != nil {
		return fmt.Errorf("read the Elastic IP quota: %w", err)
	}
	quota := -1
	for _, a := range attrs.AccountAttributes {
		for _, v := range a.AttributeValues {
			if n, err := strconv.Atoi(aws.ToString(v.AttributeValue)); err == nil {
				quota = n
			}
		}
	}
	if quota < 0 {
		return nil
	}
	if free := quota - len(addrs); need > free {
		return fmt.Errorf("the stack needs %d more Elastic IP(s) but only %d of the account's %d are free in %s: release unused addresses or request a higher quota (Service Quotas, \"EC2-VPC Elastic IPs\")", need, max(free, 0), quota, e.Region)
	}
	return nil
}

// checkToken checks that a usable token source exists and GitLab accepts it.
func checkToken(ctx context.Context, e *stack.Env) error {
	if e.Cfg.GitLab.URL == "" {
		return nil
	}
	if e.Cfg.GitLab.CreateRunner != nil {
		return checkGitLabToken(ctx, e)
	}
	var problems []string
	for i, f := range e.Cfg.FleetList() {
		if err := checkFleetToken(ctx, e, f, i == 0); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkFleetToken checks one fleet's token (GITLAB_RUNNER_TOKEN, or
// GITLAB_RUNNER_TOKEN_NAME for a fleet other than the default one); the
// first fleet's is the stack's, whose expiry and runner status shows.
func checkFleetToken(ctx context.Context, e *stack.Env, f config.Fleet, first bool) error {
	variable := f.TokenVariable(stack.EnvRunnerToken)
	token := e.Secrets.RunnerTokenOf(f.Name)
	if token.Empty() {
		what := "a runner"
		if f.Name != config.DefaultFleet {
			what = "a runner for fleet " + f.Name
		}
		return fmt.Errorf("%s is not set: create %s in GitLab (Admin area or group/project Settings > CI/CD > Runners > New runner) and export the runner authentication token it shows (glrt-...); or set gitlab.create_runner and %s to let provision create the runners", variable, what, stack.EnvGitLabToken)
	}
	if err := CheckRunnerTokenFormat(token.Reveal()); err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), stack.EnvRunnerToken+" ", variable+" ", 1))
	}
	verified, err := e.GitLab.Verify(ctx, token.Reveal())
	expires := verified.ExpiresAt
	switch {
	case err == nil:
		if first {
			e.RunnerTokenExpiresAt, e.RunnerID = expires, verified.ID
		}
		warnIfExpiring(e, variable, expires, "gitlab-runner renews it on the manager once three quarters of its lifetime have passed (provision writes the renewed token back to SSM); reset it in GitLab now if the manager is not running")
		return nil
	case errors.Is(err, gitlab.ErrTokenRejected) && storedTokenRenewed(ctx, e, f.Name, token, first):
		e.Log.Info(fmt.Sprintf("%s is out of date: gitlab-runner renewed the token and the renewed one in %s is kept (GitLab accepts it)", variable, e.Names().TokenParameter(f.Name)))
		e.MarkTokenRenewed(f.Name)
		return nil
	case errors.Is(err, gitlab.ErrTokenRejected):
		return fmt.Errorf("GitLab at %s rejected %s: the runner was deleted, its token was reset or has expired, or it belongs to another GitLab instance. Create a new runner (or reset its token) and export the new glrt-... token (%w)", e.Cfg.GitLab.URL, variable, err)
	case errors.Is(err, gitlab.ErrUnreachable):
		return fmt.Errorf("GitLab at %s cannot be reached from here to check %s: check gitlab.url, DNS, and that this machine may connect to GitLab (its security group admits only listed addresses) (%w)", e.Cfg.GitLab.URL, variable, err)
	default:
		return fmt.Errorf("check %s with GitLab: %w", variable, err)
	}
}

// storedTokenRenewed reports whether the token parameter holds another
// token than GITLAB_RUNNER_TOKEN that GitLab accepts: the manager renewed
// the token and wrote it back, which made the exported one invalid.
func storedTokenRenewed(ctx context.Context, e *stack.Env, fleet string, exported stack.Secret, first bool) bool {
	p, err := stack.GetParameter(ctx, e.SSM, e.Names().TokenParameter(fleet), true)
	if err != nil || p == nil || aws.ToString(p.Value) == exported.Reveal() {
		return false
	}
	v, err := e.GitLab.Verify(ctx, aws.ToString(p.Value))
	if err != nil {
		return false
	}
	if first {
		e.RunnerTokenExpiresAt, e.RunnerID = v.ExpiresAt, v.ID
	}
	return true
}

// TokenExpiryWarning is how close an expiry must be to be worth a warning.
const TokenExpiryWarning = 14 * 24 * time.Hour

func checkGitLabToken(ctx context.Context, e *stack.Env) error {
	token := e.Secrets.GitLabToken
	if token.Empty() {
		made := true
		for _, f := range e.Cfg.FleetList() {
			if p, err := stack.GetParameter(ctx, e.SSM, e.Names().TokenParameter(f.Name), false); err != nil || p == nil {
				made = false
			}
		}
		if made {
			return nil // every fleet's runner exists already; nothing to create
		}
		return fmt.Errorf("gitlab.create_runner is set but %s is not: export a GitLab access token with the %s scopes, or remove create_runner and export %s", stack.EnvGitLabToken, strings.Join(stack.CreateRunnerScopes, " and "), stack.EnvRunnerToken)
	}
	info, err := e.GitLab.Token(ctx, token.Reveal())
	switch {
	case err == nil:
	case errors.Is(err, gitlab.ErrUnauthorized):
		return fmt.Errorf("GitLab at %s rejected %s: it is revoked, expired or mistyped; create an access token with the %s scopes (%w)", e.Cfg.GitLab.URL, stack.EnvGitLabToken, strings.Join(stack.CreateRunnerScopes, " and "), err)
	case errors.Is(err, gitlab.ErrUnreachable):
		return fmt.Errorf("GitLab at %s cannot be reached from here: check gitlab.url, DNS, and that this machine may connect to GitLab (%w)", e.Cfg.GitLab.URL, err)
	default:
		return fmt.Errorf("check %s with GitLab: %w", stack.EnvGitLabToken, err)
	}
	var missing []string
	for _, s := range stack.CreateRunnerScopes {
		if !info.Has(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks the %s scope(s) (it has: %s): provision creates the runner with create_runner and reads and deletes it with manage_runner. Create a token with the %s scopes (User settings > Access tokens), or one with api", stack.EnvGitLabToken, strings.Join(missing, ", "), strings.Join(info.Scopes, ", "), strings.Join(stack.CreateRunnerScopes, " and "))
	}
	warnIfExpiring(e, stack.EnvGitLabToken, info.ExpiresAt, "`provision down` needs it to delete the runner it created; extend it or create a new one before then")
	return nil
}

// warnIfExpiring logs a warning when a token expires within two weeks.
func warnIfExpiring(e *stack.Env, what string, expires time.Time, advice string) {
	if expires.IsZero() {
		return
	}
	if left := time.Until(expires); left < TokenExpiryWarning {
		e.Log.Warn(fmt.Sprintf("%s expires %s (in %s): %s", what, expires.UTC().Format(time.RFC3339), left.Round(time.Hour), advice))
	}
}

// CheckRunnerTokenFormat tells a runner authentication token from the
// legacy registration token people often copy from the settings page.
func CheckRunnerTokenFormat(token string) error {
	switch {
	case strings.HasPrefix(token, gitlab.RunnerTokenPrefix) && len(token) > len(gitlab.RunnerTokenPrefix)+8:
		return nil
	case strings.HasPrefix(token, "GR1348941") || !strings.HasPrefix(token, gitlab.RunnerTokenPrefix):
		return fmt.Errorf("%s is not a runner authentication token: it does not start with %q. It looks like a registration token (often GR1348941...), the legacy, deprecated way to register runners, which config.toml does not accept. Create the runner in GitLab (Settings > CI/CD > Runners > New runner, or POST /api/v4/user/runners) and use the glrt-... authentication token it shows once; or let provision create it with gitlab.create_runner and %s", stack.EnvRunnerToken, gitlab.RunnerTokenPrefix, stack.EnvGitLabToken)
	default:
		return fmt.Errorf("%s is too short to be a runner authentication token: copy the whole glrt-... value", stack.EnvRunnerToken)
	}
}

// isCredentialError reports failures to find or use credentials.
func isCredentialError(err error) bool {
	switch awsapi.ErrorCode(err) {
	case "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException":
		return true
	}
	return strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials")
}
