// Package awsfake holds fakes of the narrow AWS client interfaces, for
// unit tests that need no emulator. A fake records every call; a test sets
// the answers it cares about (the XxxFn fields) and reads the requests the
// code under test made (Inputs). A method without its Fn answers with an
// empty output and no error: a describe finds nothing, a list is empty.
package awsfake

import (
	"sync"

	"github.com/aws/smithy-go"
)

// Call is one call a fake received.
type Call struct {
	Service, Method string
	Input           any
}

// Recorder keeps the calls of every fake of one Clients, in order.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

func (r *Recorder) add(service, method string, in any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Service: service, Method: method, Input: in})
}

// Calls are the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Methods are the names of the calls so far, in order.
func (r *Recorder) Methods() []string {
	var out []string
	for _, c := range r.Calls() {
		out = append(out, c.Method)
	}
	return out
}

// Reset forgets the calls so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// Clients are one fake of each service, sharing one record of calls.
type Clients struct {
	*Recorder
	EC2         *EC2
	IAM         *IAM
	AutoScaling *AutoScaling
	SSM         *SSM
	KMS         *KMS
	S3          *S3
	STS         *STS
	Logs        *Logs
	Pricing     *Pricing
}

// New returns fresh fakes.
func New() *Clients {
	r := &Recorder{}
	return &Clients{Recorder: r, EC2: &EC2{rec: r}, IAM: &IAM{rec: r}, AutoScaling: &AutoScaling{rec: r},
		SSM: &SSM{rec: r}, KMS: &KMS{rec: r}, S3: &S3{rec: r}, STS: &STS{rec: r}, Logs: &Logs{rec: r}, Pricing: &Pricing{rec: r}}
}

// Inputs are the requests of every call of one method whose input has
// type T, in order: Inputs[*ec2.CreateVpcInput](c, "CreateVpc").
func Inputs[T any](c *Clients, method string) []T {
	var out []T
	for _, call := range c.Calls() {
		if in, ok := call.Input.(T); ok && call.Method == method {
			out = append(out, in)
		}
	}
	return out
}

// notFound is the error AWS gives a read of one thing that does not exist.
func notFound(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "fake: no such thing"}
}
