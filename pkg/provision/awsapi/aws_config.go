package awsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// AWSOptions say how LoadAWSConfig sets up the SDK.
type AWSOptions struct {
	Region, Profile string
	// Log gets the SDK's own log lines, at debug level.
	Log *zap.Logger
	// Interrupt, when closed (the first Ctrl-C), stops new writes to AWS:
	// the calls in flight finish, no other starts (the state's own S3
	// writes excepted, so what was done is saved).
	Interrupt <-chan struct{}
}

// LoadAWSConfig resolves credentials and region through the SDK's default
// chain. AWS_ENDPOINT_URL is honoured by the SDK itself.
func LoadAWSConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	region, profile, log := o.Region, o.Profile, o.Log
	writes := writeRetryer()
	opts := []func(*awsconfig.LoadOptions) error{
		// The SDK's own warnings (a skipped checksum, a retry) are for
		// whoever debugs this tool, not for its user: debug level only.
		awsconfig.WithLogger(logging.LoggerFunc(func(class logging.Classification, format string, v ...any) {
			if log != nil {
				log.Debug(fmt.Sprintf(format, v...), zap.String("from", "aws-sdk"), zap.String("class", string(class)))
			}
		})),
		awsconfig.WithRetryer(readRetryer),
		awsconfig.WithAPIOptions([]func(*middleware.Stack) error{writesRetryOnlyThrottling(writes), noWritesAfter(o.Interrupt), nameTheStep}),
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	var noProfile awsconfig.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		files := strings.Join(noProfile.Filename, " or ")
		if files == "" {
			files = "the shared config and credentials files (~/.aws/config, ~/.aws/credentials)"
		}
		return aws.Config{}, fmt.Errorf("AWS profile %q does not exist in %s: check --profile and AWS_PROFILE (`aws configure list-profiles` lists the profiles)", noProfile.Profile, files)
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set `region:` in the configuration file, pass --region, or set AWS_REGION")
	}
	// A region from AWS_REGION or the profile is checked as the file's is.
	if p := config.RegionProblem(cfg.Region); p != "" {
		return aws.Config{}, fmt.Errorf("region: %s", p)
	}
	return cfg, nil
}
