package awstest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Latencies is how long AWS takes where the emulator takes no time.
type Latencies struct {
	// Call is added to every call (the round trip to a region).
	Call time.Duration
	// NATAvailable and NATDeleted: a NAT gateway stays "pending" after
	// its creation, "deleting" after its deletion.
	NATAvailable, NATDeleted time.Duration
	// InstanceRunning and InstanceTerminated: an instance stays "pending"
	// after its launch, "shutting-down" after its termination.
	InstanceRunning, InstanceTerminated time.Duration
	// ProfileUsable: EC2 refuses a new instance profile for a while (IAM
	// is eventually consistent): RunInstances naming it fails with
	// InvalidParameterValue "Invalid IAM Instance Profile name".
	ProfileUsable time.Duration
}

// AWSLatencies are the figures of the speed goals: a NAT gateway takes
// about a minute to become available and half that to go, an instance
// about 15 s to run and 20 s to terminate, an instance profile is refused
// by EC2 for the first seconds, and a call costs a round trip.
var AWSLatencies = Latencies{
	Call:               30 * time.Millisecond,
	NATAvailable:       60 * time.Second,
	NATDeleted:         30 * time.Second,
	InstanceRunning:    15 * time.Second,
	InstanceTerminated: 20 * time.Second,
	ProfileUsable:      6 * time.Second,
}

// LatencyModel makes the emulator as slow as AWS: install its Fault and its
// Rewrite on a proxy. It also says, per step, how long the waits it
// imposed were, which is the part of a step's time that no tool can save.
type LatencyModel struct {
	l Latencies

	mu sync.Mutex
	// until: when each resource (by id) becomes ready; the states to show
	// before that.
	until map[string]settle
	// profiles: when each instance profile (by name) becomes usable.
	profiles map[string]time.Time
	// Waits are the imposed waits by the step that started them.
	waits map[string]time.Duration
}

type settle struct {
	at      time.Time
	rewrite func(segment []byte) []byte
}

// NewLatencyModel builds a model with the given figures.
func NewLatencyModel(l Latencies) *LatencyModel {
	return &LatencyModel{l: l, until: map[string]settle{}, profiles: map[string]time.Time{}, waits: map[string]time.Duration{}}
}

// Waits returns the imposed waits by step ("apply=nat": 60s).
func (m *LatencyModel) Waits() map[string]time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]time.Duration{}
	for k, v := range m.waits {
		out[k] = v
	}
	return out
}

var (
	instanceIDs  = regexp.MustCompile(`<instanceId>(i-[0-9a-f]+)</instanceId>`)
	natIDs       = regexp.MustCompile(`<natGatewayId>(nat-[0-9a-f]+)</natGatewayId>`)
	profileName  = regexp.MustCompile(`<InstanceProfileName>([^<]+)</InstanceProfileName>`)
	runningState = regexp.MustCompile(`<code>16</code>(\s*)<name>running</name>`)
	endedState   = regexp.MustCompile(`<code>48</code>(\s*)<name>terminated</name>`)
)

// Fault adds the call latency and refuses launches with a profile that is
// not usable yet.
func (m *LatencyModel) Fault() Fault {
	return func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		time.Sleep(m.l.Call)
		if action != "RunInstances" {
			return false, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if p := form.Get("IamInstanceProfile.Name") + form.Get("IamInstanceProfile.Arn"); p != "" {
			m.mu.Lock()
			usable, known := m.profiles[p[strings.LastIndexByte(p, '/')+1:]]
			m.mu.Unlock()
			if known && time.Now().Before(usable) {
				writeError(w, r, http.StatusBadRequest, "InvalidParameterValue", "Value ("+p+") for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
				return true, false
			}
		}
		return false, false
	}
}

// Rewrite learns of creations and deletions from moto's answers and shows
// what is not ready yet as AWS would.
func (m *LatencyModel) Rewrite() Rewrite {
	return func(c Call, body []byte) []byte {
		m.mu.Lock()
		defer m.mu.Unlock()
		now := time.Now()
		switch c.Action {
		case "CreateNatGateway":
			m.begin(c.Step, natIDs, body, m.l.NATAvailable, now, pendingNAT)
		case "DeleteNatGateway":
			m.begin(c.Step, natIDs, body, m.l.NATDeleted, now, deletingNAT)
		case "RunInstances":
			m.begin(c.Step, instanceIDs, body, m.l.InstanceRunning, now, pendingInstance)
		case "TerminateInstances":
			m.begin(c.Step, instanceIDs, body, m.l.InstanceTerminated, now, shuttingDown)
		case "CreateInstanceProfile":
			if p := profileName.FindSubmatch(body); p != nil {
				m.profiles[string(p[1])] = now.Add(m.l.ProfileUsable)
				m.waits[c.Step] += m.l.ProfileUsable
			}
		case "DescribeNatGateways":
			return m.hide(natIDs, body, now)
		case "DescribeInstances":
			return m.hide(instanceIDs, body, now)
		}
		return body
	}
}

// begin starts the wait of every resource named in an answer.
func (m *LatencyModel) begin(step string, ids *regexp.Regexp, body []byte, d time.Duration, now time.Time, show func([]byte) []byte) {
	longest := time.Duration(0)
	for _, id := range ids.FindAllSubmatch(body, -1) {
		m.until[string(id[1])] = settle{at: now.Add(d), rewrite: show}
		longest = d
	}
	m.waits[step] += longest
}

// hide rewrites, in an answer, each resource that is not ready yet: the
// part of the answer from its id to the next resource's id.
func (m *LatencyModel) hide(ids *regexp.Regexp, body []byte, now time.Time) []byte {
	locs := ids.FindAllSubmatchIndex(body, -1)
	if len(locs) == 0 {
		return body
	}
	var out bytes.Buffer
	out.Write(body[:locs[0][0]])
	for i, loc := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		seg := body[loc[0]:end]
		if s, ok := m.until[string(body[loc[2]:loc[3]])]; ok && now.Before(s.at) {
			seg = s.rewrite(seg)
		}
		out.Write(seg)
	}
	return out.Bytes()
}

func pendingNAT(seg []byte) []byte {
	return bytes.Replace(seg, []byte("<state>available</state>"), []byte("<state>pending</state>"), 1)
}

func deletingNAT(seg []byte) []byte {
	return bytes.Replace(seg, []byte("<state>deleted</state>"), []byte("<state>deleting</state>"), 1)
}

func pendingInstance(seg []byte) []byte {
	return runningState.ReplaceAll(seg, []byte("<code>0</code>${1}<name>pending</name>"))
}

func shuttingDown(seg []byte) []byte {
	return endedState.ReplaceAll(seg, []byte("<code>32</code>${1}<name>shutting-down</name>"))
}
