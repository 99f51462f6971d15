package stack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// logGroupKind is the CloudWatch Logs group the manager ships its journal
// to (gitlab-runner, cloud-init, provision's own units), one stream per
// unit and instance, read by `provision logs`. Its lines are kept
// logs.retention_days days. With the stack's own KMS key the group is
// encrypted with it (the key policy lets CloudWatch Logs use it for this
// group only); with secrets.kms_key_id, whose key policy provision does
// not write, CloudWatch Logs' own encryption applies. The manager's role
// may only create streams in it and put events. down deletes it, unless
// --keep-logs; a kept group is taken up again by the next up of the stack.
type logGroupKind struct{ env *Env }

// logGroup is what find read of the group.
type logGroup struct {
	name      string
	arn       string // without the trailing ":*" DescribeLogGroups gives
	retention int    // days; 0: kept forever
	key       string // KMS key ARN; "": CloudWatch Logs' own encryption
	tags      map[string]string
}

// logGroupFix: what to put back.
type logGroupFix struct {
	retention bool
	key       bool
}

func newLogGroupStep(env *Env) plan.Step {
	return resource.NewStep[*logGroup, logGroupFix](env.shared(), "log-group", logGroupKind{env})
}

func (k logGroupKind) StepID() plan.ID { return StepLogs }

// Needs: the stack's key, whose policy must let CloudWatch Logs use it
// for this group before the group is made with it (a teardown deletes
// the group before the key).
func (k logGroupKind) Needs() []plan.ID { return k.env.secretsKeyNeeds() }

func (k logGroupKind) Hooks() resource.Hooks[*logGroup, logGroupFix] {
	return resource.Hooks[*logGroup, logGroupFix]{Tags: k.tagsOf, Retag: k.retag, ShownOnDelete: k.shownOnDelete}
}

// shownOnDelete says, in the destroy plan, when the lines stay.
func (k logGroupKind) shownOnDelete(*logGroup) []string {
	if k.env.KeepLogs {
		return []string{"kept with its lines (down --keep-logs): the next up of this stack takes it up again"}
	}
	return []string{"its lines go with it (down --keep-logs keeps them)"}
}

func (k logGroupKind) Describe() plan.Change {
	enc := "CloudWatch Logs' own"
	if k.env.Cfg.OwnSecretsKey() {
		enc = "the stack's KMS key"
	}
	return plan.Change{Step: StepLogs, Kind: "log-group", Name: k.env.Names().LogGroup(), Attrs: []plan.Attr{
		{Key: "retention_days", Value: strconv.Itoa(k.env.Cfg.Logs.RetentionDays)}, {Key: "encryption", Value: enc},
	}}
}

// Find reads the group by its exact name. A group of that name without
// the stack's tag is another's: CreateLogGroup tags a group as it makes
// it, so no crash leaves one of ours untagged.
func (k logGroupKind) Find(ctx context.Context) (resource.Found[*logGroup], error) {
	g, err := k.env.findLogGroup(ctx)
	if err != nil || g == nil {
		return resource.Found[*logGroup]{}, err
	}
	if g.tags, err = k.tagsOf(ctx, g); err != nil {
		return resource.Found[*logGroup]{}, err
	}
	if g.tags[TagStack] != k.env.Cfg.Stack {
		return resource.Found[*logGroup]{}, fmt.Errorf("%s: the log group %s exists and is not this stack's (no %s=%s tag): delete it, or choose another stack name", StepLogs, g.name, TagStack, k.env.Cfg.Stack)
	}
	return resource.Found[*logGroup]{Cur: g, Exists: true}, nil
}

// findLogGroup reads the manager's log group (nil: there is none).
func (e *Env) findLogGroup(ctx context.Context) (*logGroup, error) {
	name := e.Names().LogGroup()
	out, err := e.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("read the log group %s: %w", name, err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) != name {
			continue // a prefix match: /provision/<stack>/manager-something
		}
		return &logGroup{name: name, arn: e.arns().LogGroup(name), retention: int(aws.ToInt32(g.RetentionInDays)), key: aws.ToString(g.KmsKeyId)}, nil
	}
	return nil, nil
}

func (k logGroupKind) Record(g *logGroup) resource.Recorded {
	return resource.Recorded{ID: g.name}
}

// wantKey is the key the group is to be encrypted with ("": none of ours).
func (k logGroupKind) wantKey() string {
	if !k.env.Cfg.OwnSecretsKey() {
		return ""
	}
	return k.env.IDOf(StepSecretsKey)
}

func (k logGroupKind) Diff(_ context.Context, g *logGroup) (logGroupFix, []string, error) {
	var fix logGroupFix
	var reasons []string
	if want := k.env.Cfg.Logs.RetentionDays; g.retention != want {
		fix.retention = true
		reasons = append(reasons, fmt.Sprintf("retention_days %s -> %d", retentionText(g.retention), want))
	}
	if want := k.wantKey(); g.key != want {
		fix.key = true
		switch {
		case want == "":
			reasons = append(reasons, "encryption: from the stack's key to CloudWatch Logs' own (secrets.kms_key_id brings a key whose policy provision does not write); "+
				"the lines written so far stay under the stack's key, whose deletion is scheduled: read or export them within 7 days")
		default:
			reasons = append(reasons, "encryption: with the stack's key "+want)
		}
	}
	return fix, reasons, nil
}

func retentionText(days int) string {
	if days == 0 {
		return "never expire"
	}
	return strconv.Itoa(days)
}

func (k logGroupKind) Create(ctx context.Context, _ string, _ resource.Found[*logGroup]) (*logGroup, logGroupFix, error) {
	name := k.env.Names().LogGroup()
	tags := k.env.tagMap(StepLogs, "logs")
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: tags}
	key := k.wantKey()
	if key != "" {
		in.KmsKeyId = aws.String(key)
	}
	if _, err := k.env.Logs.CreateLogGroup(ctx, in); err != nil {
		if awsapi.ErrorCode(err) == "ResourceAlreadyExistsException" {
			// Made by an earlier attempt whose answer was lost: find it.
			return nil, logGroupFix{}, plan.TryAgainf("%s exists already: read it again", name)
		}
		if keyNotYetUsable(err, key) {
			return nil, logGroupFix{}, plan.TryAgainf("%s: CloudWatch Logs may not use the stack's key yet (its policy was just written): %v", name, err)
		}
		return nil, logGroupFix{}, awsapi.RetryableCreate(fmt.Errorf("create the log group %s: %w", name, err))
	}
	// A new group keeps its lines forever: the retention comes next.
	return &logGroup{name: name, arn: k.env.arns().LogGroup(name), key: key, tags: tags}, logGroupFix{retention: true}, nil
}

func (k logGroupKind) Update(ctx context.Context, g *logGroup, fix logGroupFix) error {
	if fix.retention {
		days := int32(k.env.Cfg.Logs.RetentionDays)
		if _, err := k.env.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g.name), RetentionInDays: &days}); err != nil {
			return fmt.Errorf("set the retention of %s: %w", g.name, err)
		}
		g.retention = int(days)
	}
	if !fix.key {
		return nil
	}
	if key := k.wantKey(); key != "" {
		_, err := k.env.Logs.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: aws.String(g.name), KmsKeyId: aws.String(key)})
		if keyNotYetUsable(err, key) {
			return plan.TryAgainf("%s: CloudWatch Logs may not use the stack's key yet (its policy was just written): %v", g.name, err)
		}
		if err != nil {
			return fmt.Errorf("encrypt %s with %s: %w", g.name, key, err)
		}
		return nil
	}
	// New lines no longer under the stack's key, which is retired in this
	// run. Lines written before stay under it (CloudWatch Logs does not
	// encrypt them again), and cannot be read once KMS deletes it: the
	// plan says so.
	if _, err := k.env.Logs.DisassociateKmsKey(ctx, &cloudwatchlogs.DisassociateKmsKeyInput{LogGroupName: aws.String(g.name)}); err != nil {
		return fmt.Errorf("take the stack's key off %s: %w", g.name, err)
	}
	return nil
}

// Remove deletes the group and its lines, unless down --keep-logs.
func (k logGroupKind) Remove(ctx context.Context, g *logGroup) error {
	if k.env.KeepLogs {
		return nil
	}
	_, err := k.env.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(g.name)})
	if err != nil && !awsapi.IsNotFound(err) {
		return fmt.Errorf("delete the log group %s: %w", g.name, err)
	}
	return nil
}

func (k logGroupKind) tagsOf(ctx context.Context, g *logGroup) (map[string]string, error) {
	if g.tags != nil {
		return g.tags, nil
	}
	out, err := k.env.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(g.arn)})
	if err != nil {
		return nil, fmt.Errorf("read the tags of %s: %w", g.name, err)
	}
	if out.Tags == nil {
		return map[string]string{}, nil
	}
	return out.Tags, nil
}

func (k logGroupKind) retag(ctx context.Context, g *logGroup, c resource.TagChange) error {
	if len(c.Set) > 0 {
		if _, err := k.env.Logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(g.arn), Tags: c.Set}); err != nil {
			return fmt.Errorf("tag %s: %w", g.name, err)
		}
	}
	if len(c.Remove) > 0 {
		if _, err := k.env.Logs.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: aws.String(g.arn), TagKeys: c.Remove}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", g.name, err)
		}
	}
	return nil
}

// keyNotYetUsable: CloudWatch Logs refused a key whose policy was written
// moments ago. KMS key policies take effect within seconds, and IAM
// answers AccessDenied meanwhile ("Changes that I make are not always
// immediately visible" in the IAM User Guide): tried again, not failed.
func keyNotYetUsable(err error, key string) bool {
	if err == nil || key == "" {
		return false
	}
	switch awsapi.ErrorCode(err) {
	case "AccessDeniedException", "InvalidParameterException":
		return strings.Contains(strings.ToLower(err.Error()), "kms")
	}
	return false
}
