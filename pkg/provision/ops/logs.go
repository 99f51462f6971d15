package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// LogLine is one line of the manager's journal, as shipped.
type LogLine struct {
	Time     time.Time
	Unit     string // one of bootstrap.LogUnits
	Instance string
	Message  string
	id       string
}

// String is the line as `provision logs` prints it: one line, cleaned of
// what a terminal would act on and of runner tokens, stream name and
// message alike, since both come from the machine (a newline inside a
// message is shown as \n, so that no message can pass for other lines).
func (l LogLine) String() string {
	return fmt.Sprintf("%s %s %s  %s", l.Time.UTC().Format(time.RFC3339), oneLine(l.Unit), oneLine(l.Instance), oneLine(l.Message))
}

func oneLine(s string) string {
	return strings.ReplaceAll(stack.FromManager(s), "\n", `\n`)
}

// LogQuery says which lines to read.
type LogQuery struct {
	Unit     string // "": every unit
	Instance string // "": every instance
	Since    time.Time
	// Limit keeps the last Limit lines (0: all).
	Limit int
}

// ErrNoLogGroup: the stack's log group does not exist.
var ErrNoLogGroup = errors.New("no log group")

// ReadLogs reads the lines of the manager's log group since q.Since, in
// the order they were written.
func ReadLogs(ctx context.Context, c awsapi.Logs, group string, q LogQuery) ([]LogLine, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: aws.Int64(q.Since.UnixMilli())}
	switch {
	case q.Unit != "" && q.Instance != "":
		in.LogStreamNames = []string{q.Unit + "/" + q.Instance}
	case q.Unit != "":
		in.LogStreamNamePrefix = aws.String(q.Unit + "/")
	}
	var lines []LogLine
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awsapi.IsNotFound(err) {
			return nil, fmt.Errorf("%w %s: %v", ErrNoLogGroup, group, err)
		}
		if err != nil {
			return nil, fmt.Errorf("read the log group %s: %w", group, err)
		}
		for _, ev := range out.Events {
			// The stream names are asked for, but the emulator answers
			// with every stream's events: they are checked here too.
			if l := lineOf(ev); (q.Unit == "" || l.Unit == q.Unit) && (q.Instance == "" || l.Instance == q.Instance) {
				lines = append(lines, l)
			}
		}
	}
	// Events of several streams come in no promised order.
	slices.SortStableFunc(lines, func(a, b LogLine) int { return a.Time.Compare(b.Time) })
	if q.Limit > 0 && len(lines) > q.Limit {
		lines = lines[len(lines)-q.Limit:]
	}
	return lines, nil
}

func lineOf(ev logstypes.FilteredLogEvent) LogLine {
	unit, instance, _ := strings.Cut(aws.ToString(ev.LogStreamName), "/")
	return LogLine{Time: time.UnixMilli(aws.ToInt64(ev.Timestamp)), Unit: unit, Instance: instance,
		Message: strings.TrimRight(aws.ToString(ev.Message), "\n"), id: aws.ToString(ev.EventId)}
}

// followWindow is how far back each look of FollowLogs reads again: the
// manager ships its units one after another, and a line may become
// visible after a later-stamped one of another unit.
const followWindow = time.Minute

// FollowLogs prints the lines since q.Since, then new ones as they come,
// every poll, until ctx ends or stop closes (Ctrl-C), which is no error.
// Each look reads followWindow back from the newest line printed and
// skips the lines printed already, by id.
func FollowLogs(ctx context.Context, read func(context.Context, LogQuery) ([]LogLine, error), q LogQuery, w io.Writer, poll time.Duration, stop <-chan struct{}) error {
	printed := map[string]time.Time{} // ids printed, with their times
	newest := q.Since
	for {
		lines, err := read(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, l := range lines {
			if _, done := printed[l.id]; done {
				continue
			}
			fmt.Fprintln(w, l)
			printed[l.id] = l.Time
			if l.Time.After(newest) {
				newest = l.Time
			}
		}
		if from := newest.Add(-followWindow); from.After(q.Since) {
			q.Since = from
		}
		for id, at := range printed {
			if at.Before(q.Since) {
				delete(printed, id) // never read again
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-stop:
			return nil
		case <-time.After(poll):
		}
	}
}

// bootLogLines is how much of a failed boot's log is shown.
const bootLogLines = 25

// bootLogTail is the end of the current manager's log of the unit that
// failed ("" when there is none: the shipper had not started, or the
// group does not exist).
func bootLogTail(ctx context.Context, e *stack.Env, unit string) string {
	id := e.IDOf(stack.StepManager)
	if id == "" {
		return ""
	}
	lines, err := ReadLogs(ctx, e.Logs, e.Names().LogGroup(), LogQuery{Unit: unit, Instance: id, Since: time.Now().Add(-24 * time.Hour), Limit: bootLogLines})
	if err != nil || len(lines) == 0 {
		return ""
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = oneLine(l.Message)
	}
	return strings.Join(out, "\n")
}
