package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

// actionSet collects the IAM actions of every AWS call the suite saw the
// tool make, across all tests.
type actionSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

var suiteActions = &actionSet{seen: map[string]bool{}}

// untaggedCreates counts the calls, by action, that made something
// without the stack's tag in the request.
var untaggedCreates = struct {
	sync.Mutex
	calls map[string]int
}{calls: map[string]int{}}

// addUntagged records the calls a test's proxy saw that gave no stack tag.
func addUntagged(p *awstest.Proxy) {
	untaggedCreates.Lock()
	defer untaggedCreates.Unlock()
	for a, n := range p.Untagged() {
		untaggedCreates.calls[a] += n
	}
}

func (s *actionSet) add(actions []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range actions {
		// "ec2:POST /" is a request whose body never arrived whole (the
		// test killed provision while it was sending): no action of its own.
		if a != ":" && !strings.HasSuffix(a, ":") && !strings.Contains(a, " ") {
			s.seen[a] = true
		}
	}
}

func (s *actionSet) sorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.seen))
	for a := range s.seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// onBehalfActions are in the policy although the tool never calls them:
// AWS calls them with the caller's permissions while serving a call of
// the tool's (the emulator does neither).
var onBehalfActions = map[string]string{
	"iam:CreateServiceLinkedRole":        "CreateAutoScalingGroup creates AWSServiceRoleForAutoScaling in an account that has none",
	"kms:Encrypt":                        "PutParameter of a SecureString under the stack's key (SSM encrypts a standard parameter with the key)",
	"kms:GenerateDataKey":                "PutParameter of a SecureString in the advanced tier (SSM envelope-encrypts it with a data key)",
	"kms:Decrypt":                        "GetParameter(s) WithDecryption of a SecureString under the stack's key",
	"iam:PassRole":                       "RunInstances with the manager's instance profile; CreateLaunchTemplate/CreateAutoScalingGroup check it too",
	"route53:AssociateVPCWithHostedZone": "CreateVpcEndpoint with private DNS associates the VPC with the endpoint's private hosted zone",
}

// checkIAMPolicy holds what `provision iam-policy` prints against what
// the suite saw: every action called is in the policy, and the policy
// holds nothing that was never called (but what AWS calls on the tool's
// behalf). It runs after a full run of the suite only (no -run filter).
func checkIAMPolicy() error {
	if f := flag.Lookup("test.run"); f == nil || f.Value.String() != "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "provision-iam-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The policy depends on one choice only: a state in S3 adds its
	// bucket's calls. Both executors' actions are always in it, since
	// down removes what either built.
	policy := map[string]bool{}
	// taggedOnly are the creations the policy allows only with the
	// stack's tag in the request.
	taggedOnly := map[string]bool{}
	for name, cfg := range map[string]string{
		"local": "stack: net\nregion: eu-west-1\n",
		"s3":    "stack: net\nregion: eu-west-1\nstate:\n  s3: {bucket: provision-state, key: net.json}\n",
	} {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			return err
		}
		for part := 1; ; part++ {
			out, err := exec.Command(binary, "iam-policy", "-c", path, "--part", fmt.Sprint(part)).Output()
			if err != nil && part > 1 {
				break // past the last part
			}
			if err != nil {
				return fmt.Errorf("provision iam-policy --part 1: %v", err)
			}
			if len(out) > 0 && compactLen(out) > 6144 {
				return fmt.Errorf("part %d of the operator policy is %d characters, more than a managed policy may be", part, compactLen(out))
			}
			var doc struct {
				Statement []struct {
					Effect    string
					Action    []string
					Condition map[string]map[string]any
				}
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				return fmt.Errorf("provision iam-policy printed no policy: %v\n%s", err, out)
			}
			for _, st := range doc.Statement {
				// A creation the policy allows with the stack's tag in the
				// request must always carry it. Tagging calls are also
				// allowed on what already carries the tag (re-tagging),
				// and RunInstances wants it on the instance only.
				_, wantsTag := st.Condition["StringEquals"]["aws:RequestTag/provision:stack"]
				for _, a := range st.Action {
					if st.Effect == "Allow" && wantsTag && !strings.HasSuffix(a, "Tags") && !strings.HasSuffix(a, "TagResource") && a != "ec2:RunInstances" {
						taggedOnly[a] = true
					}
				}
				if st.Effect != "Allow" {
					continue // a denial grants nothing to check
				}
				for _, a := range st.Action {
					policy[a] = true
				}
			}
		}
	}
	suiteActions.mu.Lock()
	defer suiteActions.mu.Unlock()
	var missing, unused []string
	for a := range suiteActions.seen {
		if !matchesAny(policy, a) {
			missing = append(missing, a)
		}
	}
	for a := range policy {
		if !seenAny(suiteActions.seen, a) && onBehalfActions[a] == "" {
			unused = append(unused, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	untaggedCreates.Lock()
	var untagged []string
	for a := range taggedOnly {
		if n := untaggedCreates.calls[a]; n > 0 {
			untagged = append(untagged, fmt.Sprintf("%s (%d calls)", a, n))
		}
	}
	untaggedCreates.Unlock()
	sort.Strings(untagged)
	if len(untagged) > 0 {
		return fmt.Errorf("the operator policy allows these only with the stack's tag in the request, but the tool made them without: %v", untagged)
	}
	if len(taggedOnly) < 14 {
		return fmt.Errorf("the operator policy lists %d creations that need the stack's tag: its statements were renamed?", len(taggedOnly))
	}
	fmt.Fprintf(os.Stderr, "iam-policy: %d actions in the policy, %d seen in the suite\n", len(policy), len(suiteActions.seen))
	if len(missing)+len(unused) > 0 {
		return fmt.Errorf("the IAM policy of `provision iam-policy` does not match the calls the suite saw:\n  called but not in the policy: %v\n  in the policy but never called: %v", missing, unused)
	}
	return nil
}

// compactLen is a policy's length as IAM counts it: without whitespace.
func compactLen(doc []byte) int {
	var b bytes.Buffer
	if json.Compact(&b, doc) != nil {
		return len(doc)
	}
	return b.Len()
}

// actionMatches: IAM action patterns hold * for any run of characters.
func actionMatches(pattern, action string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return ok
}

func matchesAny(patterns map[string]bool, action string) bool {
	for p := range patterns {
		if actionMatches(p, action) {
			return true
		}
	}
	return false
}

func seenAny(seen map[string]bool, pattern string) bool {
	for a := range seen {
		if actionMatches(pattern, a) {
			return true
		}
	}
	return false
}
