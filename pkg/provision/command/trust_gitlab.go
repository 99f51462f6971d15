package command

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// TrustGitLabOptions are the flags of `iam-policy --trust-gitlab`.
type TrustGitLabOptions struct {
	Project string // group/project
	Host    string // "": gitlab.url's
	Ref     string // "": any
	Account string // "": the caller's (STS)
}

// gitlabProjectPath is a GitLab project's full path: namespaces and the
// project, each of GitLab's path characters. No '*', '?' or ':' can be in
// it, so it cannot widen the condition it is written into.
var gitlabProjectPath = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$`)

// gitRef is a branch or tag name as git allows it, without the characters
// an IAM condition would read as wildcards or a claim separator; or a
// namespace of them, NAME/* (protected in GitLab as a wildcard).
var gitRef = regexp.MustCompile(`^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,250}(/\*)?$`)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// TrustGitLab prints the trust policy of a role that GitLab CI jobs of one
// project (and ref) may assume with their ID token, and on stderr how to
// make the OIDC provider and the role and use them in a job.
func TrustGitLab(ctx context.Context, o Options, t TrustGitLabOptions) (int, error) {
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	if !gitlabProjectPath.MatchString(t.Project) {
		return 1, fmt.Errorf("--trust-gitlab %q is not a GitLab project path: give GROUP/PROJECT (subgroups too: GROUP/SUB/PROJECT), as in the project's URL", t.Project)
	}
	ref := strings.TrimPrefix(t.Ref, "tag:")
	if t.Ref != "" && (!gitRef.MatchString(ref) || strings.Contains(ref, "..") || strings.HasPrefix(ref, "refs/")) {
		return 1, fmt.Errorf("--ref %q is not a branch name (main), a tag (tag:v1.2.0) or a namespace of protected branches (runners/*): letters, digits and _ . / - only, without refs/heads/", t.Ref)
	}
	host, from := t.Host, "--gitlab-host"
	if host == "" {
		from = "gitlab.url's host"
		u, err := url.Parse(cfg.GitLab.URL)
		if err != nil || u.Host == "" {
			return 1, fmt.Errorf("--trust-gitlab needs GitLab's host: set gitlab.url in the configuration or pass --gitlab-host gitlab.example.com")
		}
		host = u.Host + strings.TrimRight(u.Path, "/")
	}
	if h, err := url.Parse("https://" + host); err != nil || h.Host == "" || strings.ContainsAny(host, "*?:@ ") {
		return 1, fmt.Errorf("%s %q is not a host name as an OIDC provider of IAM takes it (no port): give GitLab's host with --gitlab-host, as its OIDC issuer names it, e.g. gitlab.example.com", from, host)
	}
	account := t.Account
	if account == "" {
		if account, err = callerAccount(ctx, o, cfg); err != nil {
			return 1, fmt.Errorf("the trust policy names the account's OIDC provider, and the account could not be read (%w): pass --account 123456789012", err)
		}
	}
	if !accountID.MatchString(account) {
		return 1, fmt.Errorf("--account %q is not an AWS account id (12 digits)", account)
	}
	g := policy.GitLabCI{Partition: policy.PartitionOf(cfg.Region), Account: account, Host: host, Project: t.Project, Ref: t.Ref}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(policy.GitLabTrustPolicy(g)); err != nil {
		return 1, err
	}
	if o.Stderr != nil {
		role := "provision-" + cfg.Stack + "-apply"
		if t.Ref == "" || strings.Contains(t.Ref, "*") {
			role = "provision-" + cfg.Stack + "-plan"
		}
		fmt.Fprintf(o.Stderr, `The trust policy above lets CI jobs of %s assume the role, through GitLab's OIDC provider in account %s.
AWS fetches GitLab's signing keys from https://%s/oauth/discovery/keys: that address must be reachable from the internet.
Once per account, the provider (its URL and audience: GitLab's address, as the jobs' id_tokens aud):
    aws iam create-open-id-connect-provider --url https://%s --client-id-list https://%s
The role, with the operator policy (provision iam-policy --part N, each part a managed policy):
    aws iam create-role --role-name %s --assume-role-policy-document file://trust.json
    provision iam-policy --part 1 > part1.json
    aws iam create-policy --policy-name provision-%s-1 --policy-document file://part1.json
    aws iam attach-role-policy --role-name %s --policy-arn arn:%s:iam::%s:policy/provision-%s-1
In the job (the AWS SDK reads the two variables and assumes the role itself):
    id_tokens:
      AWS_ID_TOKEN:
        aud: https://%s
    script:
      - export AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)" AWS_ROLE_ARN=arn:%s:iam::%s:role/%s
      - echo "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"
`, g.Subject(), account, host, host, host, role, cfg.Stack, role, g.Partition, account, cfg.Stack, host, g.Partition, account, role)
	}
	return 0, nil
}

// callerAccount is the account of the caller's credentials.
func callerAccount(ctx context.Context, o Options, cfg *config.Config) (string, error) {
	awsCfg, err := awsapi.LoadAWSConfig(ctx, awsapi.AWSOptions{Region: cfg.Region, Profile: o.Profile, Log: o.Log, Interrupt: o.Interrupt})
	if err != nil {
		return "", err
	}
	id, err := sts.NewFromConfig(awsCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return *id.Account, nil
}
