package provision_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// A written record is an overwritable String parameter of JSON that a later run reads back whole.
func TestStateRecordWrittenThenRead(t *testing.T) {
	f := newFakeStack(t, nil)
	stacktest.AnswerCreations(f.c)
	want := provision.StateRecord{Location: "s3://team-state/ci.json", Lineage: "6f1c2d3e"}
	if err := f.s.WriteStateRecord(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	puts := awsfake.Inputs[*ssm.PutParameterInput](f.c, "PutParameter")
	if len(puts) != 1 {
		t.Fatalf("%d puts", len(puts))
	}
	p := puts[0]
	if aws.ToString(p.Name) != "/provision/ci/state-location" || p.Type != ssmtypes.ParameterTypeString || !aws.ToBool(p.Overwrite) {
		t.Errorf("put %s type %s overwrite %v", aws.ToString(p.Name), p.Type, aws.ToBool(p.Overwrite))
	}
	var stored map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(p.Value)), &stored); err != nil || stored["location"] != want.Location || stored["lineage"] != want.Lineage {
		t.Errorf("value %s (%v)", aws.ToString(p.Value), err)
	}
	got, err := f.s.ReadStateRecord(context.Background())
	if err != nil || got == nil || *got != want {
		t.Errorf("read back %+v %v, want %+v", got, err, want)
	}
}

// A stack without a record reads as nil, not an error.
func TestStateRecordAbsent(t *testing.T) {
	f := newFakeStack(t, nil)
	if r, err := f.s.ReadStateRecord(context.Background()); r != nil || err != nil {
		t.Errorf("no record: %+v %v", r, err)
	}
}

// A parameter that does not hold a record is an error naming it and the way out.
func TestStateRecordNotJSON(t *testing.T) {
	f := newFakeStack(t, nil)
	f.c.SSM.GetParametersFn = func(_ context.Context, in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error) {
		return &ssm.GetParametersOutput{Parameters: []ssmtypes.Parameter{{Name: aws.String(stack.StateRecordParameter("ci")), Value: aws.String("somewhere")}}}, nil
	}
	_, err := f.s.ReadStateRecord(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/provision/ci/state-location does not hold a state record") || !strings.Contains(err.Error(), "--adopt") {
		t.Errorf("not a record: %v", err)
	}
}

// A write SSM refuses is an error naming the stack and the parameter.
func TestStateRecordWriteRefused(t *testing.T) {
	f := newFakeStack(t, nil)
	f.c.SSM.PutParameterFn = func(context.Context, *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException"}
	}
	err := f.s.WriteStateRecord(context.Background(), provision.StateRecord{Location: "x"})
	if err == nil || !strings.Contains(err.Error(), "record where the state of ci lives (/provision/ci/state-location)") {
		t.Errorf("refused write: %v", err)
	}
}

// Deleting the record deletes its parameter, once deleted or already gone.
func TestStateRecordDeleted(t *testing.T) {
	f := newFakeStack(t, nil)
	f.c.SSM.DeleteParameterFn = func(context.Context, *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	if err := f.s.DeleteStateRecord(context.Background()); err != nil {
		t.Fatal(err)
	}
	dels := awsfake.Inputs[*ssm.DeleteParameterInput](f.c, "DeleteParameter")
	if len(dels) != 1 || aws.ToString(dels[0].Name) != "/provision/ci/state-location" {
		t.Errorf("deleted %d parameters", len(dels))
	}
}
