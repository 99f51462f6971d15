package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

// The CLI tests run the binary as a user does, from scripts in
// testdata/script (testscript's txtar format): `exec provision ...` runs
// this package's main in a process of its own.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"provision": func() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

const runnerToken = "glrt-cli-runner-token-0a1b2c"

var (
	motoOnce sync.Once
	moto     *awstest.Moto
	motoErr  error
)

func TestCLI(t *testing.T) {
	// The scripts run as parallel subtests, which start only once this
	// function has returned: the emulator they share is stopped by a
	// cleanup, which runs after them (stopping it at the end of this
	// function would run before any script started it, and leave it
	// running after the tests).
	t.Cleanup(func() {
		if moto != nil {
			moto.Stop()
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("AWS_ACCESS_KEY_ID", "testing")
			env.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
			env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/no-aws-config")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/no-aws-credentials")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// aws-and-gitlab: an emulated AWS (a shared moto) and a GitLab
			// stand-in for this script, in AWS_ENDPOINT_URL, GITLAB_URL,
			// GITLAB_SG and GITLAB_RUNNER_TOKEN.
			"aws-and-gitlab": func(ts *testscript.TestScript, neg bool, args []string) {
				motoOnce.Do(func() { moto, motoErr = awstest.StartMoto() })
				if motoErr != nil {
					ts.Fatalf("moto_server: %v", motoErr)
				}
				gl := gitlabtest.New()
				ts.Defer(gl.Close)
				gl.AddRunner(runnerToken)
				sg := gitlabGroup(ts, moto.URL)
				// The administrator's part: the stack's permissions boundary.
				if cfg, err := os.ReadFile(ts.MkAbs("provision.yaml")); err == nil {
					ts.Check(awstest.CreateBoundaryFor(context.Background(), moto.URL, string(cfg), "eu-west-1"))
				}
				ts.Setenv("AWS_ENDPOINT_URL", moto.URL)
				ts.Setenv("GITLAB_URL", gl.URL)
				ts.Setenv("GITLAB_SG", sg)
				ts.Setenv("GITLAB_RUNNER_TOKEN", runnerToken)
			},
			// json-valid FILE: the file (or stdout) is one JSON document.
			"json-valid": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: json-valid FILE|stdout")
				}
				data := ts.ReadFile(args[0])
				if json.Valid([]byte(data)) == neg {
					ts.Fatalf("%s: JSON valid is %v", args[0], !neg)
				}
			},
			// replace FILE OLD NEW: edit a file in place.
			"replace": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: replace FILE OLD NEW")
				}
				path := ts.MkAbs(args[0])
				data, err := os.ReadFile(path)
				ts.Check(err)
				if !strings.Contains(string(data), args[1]) {
					ts.Fatalf("%s does not contain %q", args[0], args[1])
				}
				ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), args[1], args[2], 1)), 0o644))
			},
		},
	})
}

// gitlabGroup stands in for the GitLab server's security group.
func gitlabGroup(ts *testscript.TestScript, endpoint string) string {
	ctx := context.Background()
	c := ec2.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), BaseEndpoint: aws.String(endpoint)})
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.99.0.0/16")})
	ts.Check(err)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("gitlab"), Description: aws.String("GitLab"), VpcId: vpc.Vpc.VpcId})
	ts.Check(err)
	return aws.ToString(sg.GroupId)
}
