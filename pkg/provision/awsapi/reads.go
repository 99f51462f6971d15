package awsapi

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"
)

// Reads holds, for one run, the answers of reads that several steps (and
// preflight) share: one describe for all the stack's subnets rather than
// one per subnet, and likewise for route tables, network ACLs, VPC
// endpoints, Elastic IPs and security groups, and one GetParameters for
// the parameters the run reads. An answer is used only while nothing was
// written through the run's EC2 or SSM client since it was asked (any
// write, whatever it touched, and whether or not it succeeded) and for at
// most ReadsFresh: a plan shown for approval, then applied minutes later,
// reads AWS again.
type Reads struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]*readEntry
	now     func() time.Time
}

// ReadsFresh is how long a shared answer may be used when nothing was
// written meanwhile.
const ReadsFresh = 15 * time.Second

type readEntry struct {
	gen  uint64
	at   time.Time
	done chan struct{}
	val  any
	err  error
}

// NewReads makes an empty cache for one run.
func NewReads() *Reads {
	return &Reads{entries: map[string]*readEntry{}, now: time.Now}
}

// forget makes every answer stale.
func (r *Reads) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
}

// EC2Options and ssmOptions install forgetOnWrite on the clients whose
// answers are shared (nothing on nil).
func (r *Reads) EC2Options(o *ec2.Options) {
	if r != nil {
		o.APIOptions = append(o.APIOptions, r.forgetOnWrite)
	}
}

func (r *Reads) ASGOptions(o *autoscaling.Options) {
	if r != nil {
		o.APIOptions = append(o.APIOptions, r.forgetOnWrite)
	}
}

func (r *Reads) SSMOptions(o *ssm.Options) {
	if r != nil {
		o.APIOptions = append(o.APIOptions, r.forgetOnWrite)
	}
}

// forgetOnWrite is the clients' middleware: a write makes every shared
// answer stale before it is sent (a read racing with it is not used) and
// again when it is answered.
func (r *Reads) forgetOnWrite(stack *middleware.Stack) error {
	if !IsMutatingOperation(stack.ID()) {
		return nil
	}
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("provision-forget-reads",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.forget()
			defer r.forget()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// SharedRead returns the answer under key, asking AWS through fetch when
// there is no usable one; callers asking at once share one call.
func SharedRead[T any](ctx context.Context, r *Reads, key string, fetch func(context.Context) (T, error)) (T, error) {
	if r == nil {
		return fetch(ctx)
	}
	r.mu.Lock()
	e := r.entries[key]
	if e == nil || e.gen != r.gen || r.now().Sub(e.at) > ReadsFresh {
		e = &readEntry{gen: r.gen, at: r.now(), done: make(chan struct{})}
		r.entries[key] = e
		r.mu.Unlock()
		val, err := fetch(ctx)
		e.val, e.err = val, err
		close(e.done)
		if err != nil {
			r.mu.Lock()
			if r.entries[key] == e {
				delete(r.entries, key)
			}
			r.mu.Unlock()
		}
		return val, err
	}
	r.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	if e.err != nil {
		// The caller that asked saw the error; this one asks again.
		return fetch(ctx)
	}
	return e.val.(T), nil
}
