package provision

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// StateRecord is where a stack's state lives, kept in the account itself
// (an SSM parameter beside the token): a run whose state lives somewhere
// else (another directory, another machine, a bucket) would otherwise find
// the live stack by its tags, adopt it and change it alongside the first.
type StateRecord struct {
	Location string `json:"location"`
	Lineage  string `json:"lineage"`
}

// ReadStateRecord returns the record, or nil when the stack has none.
func (s AWSStack) ReadStateRecord(ctx context.Context) (*StateRecord, error) {
	var p *ssmtypes.Parameter
	err := awsapi.RetryTransient(ctx, func() (err error) {
		p, err = s.env(nil, stack.EnvOptions{}).StackParameter(ctx, stack.StateRecordParameter(s.Cfg.Stack))
		return err
	})
	if err != nil || p == nil {
		return nil, err
	}
	var r StateRecord
	if err := json.Unmarshal([]byte(aws.ToString(p.Value)), &r); err != nil {
		return nil, fmt.Errorf("%s does not hold a state record (%w): delete it, or pass --adopt", stack.StateRecordParameter(s.Cfg.Stack), err)
	}
	return &r, nil
}

// WriteStateRecord records where the state lives now.
func (s AWSStack) WriteStateRecord(ctx context.Context, r StateRecord) error {
	value, _ := json.Marshal(r)
	name := stack.StateRecordParameter(s.Cfg.Stack)
	// An overwrite of the same value: safe to send again after a lost answer.
	err := awsapi.RetryTransient(ctx, func() error {
		_, err := s.env(nil, stack.EnvOptions{}).SSM.PutParameter(ctx, &ssm.PutParameterInput{
			Name: &name, Value: aws.String(string(value)), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
			Description: aws.String(fmt.Sprintf("provision %s: where the stack's state lives", s.Cfg.Stack)),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("record where the state of %s lives (%s): %w", s.Cfg.Stack, name, err)
	}
	return nil
}

// DeleteStateRecord removes the record, with the stack.
func (s AWSStack) DeleteStateRecord(ctx context.Context) error {
	return awsapi.RetryTransient(ctx, func() error {
		return stack.DeleteParameter(ctx, s.env(nil, stack.EnvOptions{}).SSM, stack.StateRecordParameter(s.Cfg.Stack))
	})
}
