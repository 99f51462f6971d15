package stack_test

import (
	"reflect"
	"strings"
	"testing"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// On a fresh account every step plans a creation, and nothing is written.
func TestFreshStackPlansEveryCreation(t *testing.T) {
	e, c := stacktest.NewEnv(t, nil)
	r := stacktest.Walk(t, e, false, false)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range r.Changes {
		if ch.Action != plan.Create && ch.Step != "drain/manager" {
			t.Errorf("%s: %s, want create", ch.Step, ch.Action)
		}
	}
	for _, call := range c.Calls() {
		if awsapi.IsMutatingOperation(call.Method) {
			t.Errorf("a plan called %s", call.Method)
		}
	}
	t.Logf("%d steps, %d calls", len(r.Changes), len(c.Calls()))
}

// A whole `up` over the fakes: every step succeeds, and every resource is
// made with the stack's and its step's ownership tags in the request
// itself, so that a run killed right after a create leaves something
// discovery finds.
func TestUpOverFakesTagsEveryCreation(t *testing.T) {
	e, c := stacktest.NewEnv(t, nil)
	stacktest.AnswerCreations(c)
	r := stacktest.Walk(t, e, true, false)
	for _, se := range r.Errors {
		t.Errorf("%s: %v", se.Step, se.Err)
	}
	creates := 0
	for _, call := range c.Calls() {
		specs := tagSpecsOf(call.Input)
		if specs == nil {
			continue
		}
		creates++
		tags := stacktest.SpecTags(specs)
		if stack.TagValue(tags, stack.TagStack) != "ci" || stack.TagValue(tags, stack.TagStep) == "" {
			t.Errorf("%s without its ownership tags: %v", call.Method, tags)
		}
	}
	if creates < 15 {
		t.Errorf("%d tagged creations, want every EC2 resource (15 or more)", creates)
	}
}

// tagSpecsOf is the TagSpecifications of an EC2 create request (nil for
// other calls).
func tagSpecsOf(in any) []ec2types.TagSpecification {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("TagSpecifications")
	if !f.IsValid() {
		return nil
	}
	specs, _ := f.Interface().([]ec2types.TagSpecification)
	return specs
}

// Every variant of the configuration builds over the fakes, plans again
// without error, and tears down: what down finds it deletes, and a
// teardown leaves no record behind.
func TestVariantsBuildAndTearDownOverFakes(t *testing.T) {
	variants := map[string]func(*config.Config){
		"defaults":       nil,
		"docker+machine": func(c *config.Config) { c.Runners.Executor = config.ExecutorDockerMachine },
		"no IPv6, instance-connect keys": func(c *config.Config) {
			c.Network.IPv6, c.Runners.SSHKeys = false, config.SSHKeysInstanceConnect
		},
		"endpoints, cache, Spot": func(c *config.Config) {
			c.Network.Endpoints = []string{"ssm", "ecr"}
			c.Cache.S3, c.Runners.Spot = true, true
			c.Runners.InstanceTypes = []string{"t3a.medium"}
		},
		"given secrets key": func(c *config.Config) { c.Secrets.KMSKeyID = "alias/team-secrets" },
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			e, c := stacktest.NewEnv(t, change)
			stacktest.AnswerCreations(c)
			if r := stacktest.Walk(t, e, true, false); r.Err() != nil {
				t.Fatalf("up: %v", r.Err())
			}
			if r := stacktest.Walk(t, e, false, false); r.Err() != nil {
				t.Fatalf("plan after up: %v", r.Err())
			}
			e.Teardown = true
			c.Reset()
			r := stacktest.Walk(t, e, true, true)
			if r.Err() != nil {
				t.Fatalf("down: %v", r.Err())
			}
			deletes := 0
			for _, m := range c.Methods() {
				if strings.HasPrefix(m, "Delete") || m == "TerminateInstances" || m == "ReleaseAddress" || m == "ScheduleKeyDeletion" {
					deletes++
				}
			}
			if deletes == 0 {
				t.Errorf("down deleted nothing: %v", c.Methods())
			}
		})
	}
}

// After an up over the fakes, every kind finds what it made: the plan
// that follows names each resource by its id and plans no creation, so
// each kind's Find reads back what its Create made, and its Diff runs on
// it.
func TestEveryKindFindsWhatItMade(t *testing.T) {
	for name, change := range executorVariants {
		t.Run(name, func(t *testing.T) {
			e, c := stacktest.NewEnv(t, change)
			stacktest.AnswerCreations(c)
			if r := stacktest.Walk(t, e, true, false); r.Err() != nil {
				t.Fatalf("up: %v", r.Err())
			}
			r := stacktest.Walk(t, e, false, false)
			if r.Err() != nil {
				t.Fatalf("plan after up: %v", r.Err())
			}
			for _, ch := range r.Changes {
				if ch.Action == plan.Create || (ch.ID == "" && ch.Step != stack.StepDrain && ch.Step != stack.StepMachines) {
					t.Errorf("%s: %s, id %q: what up made is not found", ch.Step, ch.Action, ch.ID)
				}
			}
		})
	}
}

// executorVariants are a stack of each executor, with the optional kinds
// (an interface endpoint, the cache bucket) turned on where they exist.
var executorVariants = map[string]func(*config.Config){
	"docker-autoscaler": func(c *config.Config) {
		c.Network.Endpoints = []string{"ssm"}
		c.Cache.S3 = true
	},
	"docker+machine": func(c *config.Config) { c.Runners.Executor = config.ExecutorDockerMachine },
}
