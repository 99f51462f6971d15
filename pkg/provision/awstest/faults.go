package awstest

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind is one way an AWS call can go wrong.
type FaultKind string

const (
	// Throttle answers with the service's throttling error; the call does
	// not reach the emulator.
	Throttle FaultKind = "throttle"
	// ServerError answers 500 without reaching the emulator.
	ServerError FaultKind = "500"
	// Unavailable answers 503 without reaching the emulator.
	Unavailable FaultKind = "503"
	// Drop closes the connection without an answer; the call does not
	// reach the emulator.
	Drop FaultKind = "drop"
	// LostAnswer lets the call take effect, then answers 500: the caller
	// cannot tell it happened.
	LostAnswer FaultKind = "lost-answer"
)

// AllFaults lists every kind.
var AllFaults = []FaultKind{Throttle, ServerError, Unavailable, Drop, LostAnswer}

// RandomFaults fails the given fraction of calls with kinds chosen at
// random, reproducibly from seed. Counts says how many of each it injected.
type RandomFaults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	kinds  []FaultKind
	Counts map[FaultKind]int
}

// NewRandomFaults builds a seeded fault source.
func NewRandomFaults(seed int64, rate float64, kinds ...FaultKind) *RandomFaults {
	if len(kinds) == 0 {
		kinds = AllFaults
	}
	return &RandomFaults{rng: rand.New(rand.NewSource(seed)), rate: rate, kinds: kinds, Counts: map[FaultKind]int{}}
}

// pick decides the fate of one call.
func (f *RandomFaults) pick() (FaultKind, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return "", false
	}
	k := f.kinds[f.rng.Intn(len(f.kinds))]
	f.Counts[k]++
	return k, true
}

// Injected returns a copy of the counts.
func (f *RandomFaults) Injected() map[FaultKind]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.Counts)
}

// Fault is the proxy hook for this source.
func (f *RandomFaults) Fault() Fault {
	return func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		kind, ok := f.pick()
		if !ok {
			return false, false
		}
		if kind == LostAnswer {
			return false, true
		}
		writeFault(w, r, kind)
		return true, false
	}
}

// writeFault answers a call the way AWS would for that failure.
func writeFault(w http.ResponseWriter, r *http.Request, kind FaultKind) {
	switch kind {
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	case Throttle:
		writeError(w, r, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case Unavailable:
		writeError(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
	default:
		writeError(w, r, http.StatusInternalServerError, "InternalError", "An internal error has occurred")
	}
}

// writeError speaks the error dialect of the call's protocol: EC2's XML,
// S3's, the query protocol's XML (IAM, STS, Auto Scaling), or JSON (SSM).
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	// S3 first: the Content-Type of a PutObject is its object's (the
	// state is JSON), not the protocol's.
	if serviceOf(r) == "s3" {
		// S3's own dialect: <Error> at the top; it throttles with 503 SlowDown.
		if code == "Throttling" {
			code, status = "SlowDown", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault-injected</RequestId></Error>`, code, msg)
		}
		return
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM") || strings.Contains(r.Header.Get("Content-Type"), "json") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if code == "Throttling" {
			code = "ThrottlingException"
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"%s","message":"%s"}`, code, msg)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if isEC2(r) {
		if code == "Throttling" {
			code, status = "RequestLimitExceeded", http.StatusServiceUnavailable
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>fault-injected</RequestID></Response>`, code, msg)
		return
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-injected</RequestId></ErrorResponse>`, code, msg)
}

func isEC2(r *http.Request) bool {
	return r.Header.Get("X-Provision-Version") == "2016-11-15"
}

// Delay slows every call down by d (for interruption tests and benchmarks).
func Delay(d time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		time.Sleep(d)
		return false, false
	}
}

// PendingNAT makes NAT gateways take their time as on AWS (one to two
// minutes): for d after the first CreateNatGateway, DescribeNatGateways
// shows "available" gateways as "pending" (moto makes them available at
// once).
func PendingNAT(d time.Duration) Rewrite {
	var mu sync.Mutex
	var created time.Time
	return func(c Call, body []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		switch c.Action {
		case "CreateNatGateway":
			if created.IsZero() {
				created = time.Now()
			}
		case "DescribeNatGateways":
			if !created.IsZero() && time.Since(created) < d {
				return bytes.ReplaceAll(body, []byte("<state>available</state>"), []byte("<state>pending</state>"))
			}
		}
		return body
	}
}
