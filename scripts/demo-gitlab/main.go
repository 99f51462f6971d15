// Command demo-gitlab stands in for a GitLab server in scripts/demo: it
// serves the API endpoints provision calls, creates a "GitLab" security
// group in the AWS emulator, prints the values the demo configuration
// needs as KEY=value lines, and runs until it is stopped.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

// demoToken makes up a token for this run of the fake GitLab (a runner
// authentication token, glrt-, or an access token, glpat-); nothing
// token-like is kept in the repository.
func demoToken(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + "demo-" + hex.EncodeToString(b), nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-gitlab:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.99.0.0/16")})
	if err != nil {
		return fmt.Errorf("create the GitLab VPC: %w", err)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("gitlab"), Description: aws.String("GitLab server"), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		return fmt.Errorf("create the GitLab security group: %w", err)
	}
	token, err := demoToken("glrt-")
	if err != nil {
		return err
	}
	// An access token that may create and delete runners: with
	// gitlab.create_runner every up makes a fresh runner.
	pat, err := demoToken("glpat-")
	if err != nil {
		return err
	}
	srv := gitlabtest.New()
	defer srv.Close()
	srv.AddRunner(token)
	srv.AddUserToken(pat, gitlabtest.UserToken{Scopes: []string{"create_runner", "manage_runner"}})
	fmt.Printf("GITLAB_URL=%s\nGITLAB_SG=%s\nGITLAB_RUNNER_TOKEN=%s\nGITLAB_TOKEN=%s\n", srv.URL, aws.ToString(sg.GroupId), token, pat)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return nil
}
