package awsapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// counter is a fetch that counts its calls and answers with their number.
type counter struct{ n atomic.Int32 }

func (c *counter) fetch(context.Context) (int, error) { return int(c.n.Add(1)), nil }

// Steps asking the same thing share one answer; another key is asked anew.
func TestSharedReadSharesAnAnswer(t *testing.T) {
	r, ctx := NewReads(), context.Background()
	var subnets, tables counter
	for i := 0; i < 3; i++ {
		if v, err := SharedRead(ctx, r, "subnets", subnets.fetch); v != 1 || err != nil {
			t.Fatalf("read %d: %v %v, want the first answer", i, v, err)
		}
	}
	if v, _ := SharedRead(ctx, r, "route-tables", tables.fetch); v != 1 || tables.n.Load() != 1 {
		t.Errorf("another key: %v after %d fetches", v, tables.n.Load())
	}
}

// Without a cache (nil) every read asks AWS.
func TestSharedReadWithoutCache(t *testing.T) {
	var c counter
	for i := 1; i <= 2; i++ {
		if v, _ := SharedRead(context.Background(), nil, "subnets", c.fetch); v != i {
			t.Errorf("read %d answered %d", i, v)
		}
	}
}

// An answer is used for ReadsFresh, and asked again after.
func TestSharedReadExpires(t *testing.T) {
	r, ctx := NewReads(), context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	var c counter
	_, _ = SharedRead(ctx, r, "k", c.fetch)
	now = now.Add(ReadsFresh)
	if v, _ := SharedRead(ctx, r, "k", c.fetch); v != 1 {
		t.Errorf("at ReadsFresh the answer was asked again")
	}
	now = now.Add(time.Millisecond)
	if v, _ := SharedRead(ctx, r, "k", c.fetch); v != 2 {
		t.Errorf("after ReadsFresh the old answer was used")
	}
}

// A failed read is not kept: the next caller asks again, and that answer is shared.
func TestSharedReadForgetsErrors(t *testing.T) {
	r, ctx := NewReads(), context.Background()
	calls := 0
	fetch := func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", errors.New("throttled")
		}
		return "ok", nil
	}
	if _, err := SharedRead(ctx, r, "k", fetch); err == nil {
		t.Fatal("the error was lost")
	}
	if v, err := SharedRead(ctx, r, "k", fetch); v != "ok" || err != nil || calls != 2 {
		t.Errorf("after an error: %q %v, %d calls", v, err, calls)
	}
	// The new answer is shared as any other.
	if v, _ := SharedRead(ctx, r, "k", fetch); v != "ok" || calls != 2 {
		t.Errorf("the answer after an error is not shared: %d calls", calls)
	}
}

// Callers asking at once wait for the one call in flight and share its answer.
func TestSharedReadConcurrentCallersShareOneCall(t *testing.T) {
	r, ctx := NewReads(), context.Background()
	inFlight, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	fetch := func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			close(inFlight)
			<-release
		}
		return 42, nil
	}
	var wg sync.WaitGroup
	got := make([]int, 4)
	wg.Add(1)
	go func() { defer wg.Done(); got[0], _ = SharedRead(ctx, r, "k", fetch) }()
	<-inFlight
	for i := 1; i < len(got); i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = SharedRead(ctx, r, "k", fetch) }()
	}
	time.Sleep(10 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
	for i, v := range got {
		if v != 42 {
			t.Errorf("caller %d got %d", i, v)
		}
	}
}

// A caller waiting for another's call stops when its own context ends.
func TestSharedReadWaitEndsWithContext(t *testing.T) {
	r := NewReads()
	inFlight, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	go func() {
		_, _ = SharedRead(context.Background(), r, "k", func(context.Context) (int, error) {
			close(inFlight)
			<-release
			return 1, nil
		})
	}()
	<-inFlight
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	asked := false
	_, err := SharedRead(ctx, r, "k", func(context.Context) (int, error) { asked = true; return 2, nil })
	if !errors.Is(err, context.Canceled) || asked {
		t.Errorf("err %v, asked %v: want context.Canceled without a call", err, asked)
	}
}

// A caller that waited for a call that failed asks again itself.
func TestSharedReadWaiterAsksAgainAfterError(t *testing.T) {
	r, ctx := NewReads(), context.Background()
	inFlight, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = SharedRead(ctx, r, "k", func(context.Context) (int, error) {
			close(inFlight)
			<-release
			return 0, errors.New("throttled")
		})
	}()
	<-inFlight
	go func() { time.Sleep(10 * time.Millisecond); close(release) }()
	v, err := SharedRead(ctx, r, "k", func(context.Context) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Errorf("%v %v, want its own answer", v, err)
	}
}

// Any write (even failed) through the EC2, ASG or SSM client makes answers stale; reads do not.
func TestSharedReadForgottenAfterWrite(t *testing.T) {
	_, cfg := newEndpoint(t, AWSOptions{}, func(w http.ResponseWriter, action string, _ int) {
		if action == "CreateTags" || action == "DescribeVpcs" {
			_, _ = w.Write([]byte(ec2OK))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
	})
	r, ctx := NewReads(), context.Background()
	e := ec2.NewFromConfig(cfg, r.EC2Options)
	a := autoscaling.NewFromConfig(cfg, r.ASGOptions)
	s := ssm.NewFromConfig(cfg, r.SSMOptions)
	var c counter
	read := func() int { v, _ := SharedRead(ctx, r, "subnets", c.fetch); return v }
	read()
	if _, err := e.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	if v := read(); v != 1 {
		t.Fatalf("a read through the client made the answer stale")
	}
	writes := map[string]func() error{
		"ec2 CreateTags": func() error {
			_, err := e.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vpc-1"}})
			return err
		},
		"a failed autoscaling UpdateAutoScalingGroup": func() error {
			_, err := a.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g")})
			return err
		},
		"a failed ssm PutParameter": func() error {
			_, err := s.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v")})
			return err
		},
	}
	for name, write := range writes {
		before := read()
		_ = write()
		if v := read(); v != before+1 {
			t.Errorf("after %s the old answer was used", name)
		}
	}
}

// A nil cache installs nothing on the clients.
func TestNilReadsInstallsNothing(t *testing.T) {
	var r *Reads
	var eo ec2.Options
	var ao autoscaling.Options
	var so ssm.Options
	r.EC2Options(&eo)
	r.ASGOptions(&ao)
	r.SSMOptions(&so)
	if len(eo.APIOptions)+len(ao.APIOptions)+len(so.APIOptions) != 0 {
		t.Errorf("a nil cache added middleware")
	}
}
