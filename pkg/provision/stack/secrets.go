package stack

import (
	"os"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// Environment variables the tokens come from; they never live in the
// configuration file, the state file, logs, plans or user-data.
const (
	EnvRunnerToken = "GITLAB_RUNNER_TOKEN"
	EnvGitLabToken = "GITLAB_TOKEN"
)

// Secret holds a token. Printing it in any form shows [redacted]; only
// Reveal gives the value, at the one place it is sent.
type Secret struct{ value string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

func (s Secret) String() string               { return s.redacted() }
func (s Secret) GoString() string             { return s.redacted() }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.redacted() + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }
func (s Secret) Reveal() string               { return s.value }
func (s Secret) Empty() bool                  { return s.value == "" }
func (s Secret) redacted() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// Secrets are the tokens of one run.
type Secrets struct {
	RunnerToken Secret // GITLAB_RUNNER_TOKEN: the runner authentication token
	GitLabToken Secret // GITLAB_TOKEN: a user token with create_runner scope
	// FleetTokens are the other fleets' runner tokens by variable
	// (GITLAB_RUNNER_TOKEN_LARGE).
	FleetTokens map[string]Secret
}

// RunnerTokenOf is a fleet's runner token: GITLAB_RUNNER_TOKEN for the
// default fleet, GITLAB_RUNNER_TOKEN_NAME for the others.
func (s Secrets) RunnerTokenOf(f string) Secret {
	if f == config.DefaultFleet {
		return s.RunnerToken
	}
	return s.FleetTokens[config.Fleet{Name: f}.TokenVariable(EnvRunnerToken)]
}

// SecretsFromEnv reads the tokens from the process environment.
func SecretsFromEnv() Secrets {
	s := Secrets{RunnerToken: NewSecret(os.Getenv(EnvRunnerToken)), GitLabToken: NewSecret(os.Getenv(EnvGitLabToken)), FleetTokens: map[string]Secret{}}
	for _, kv := range os.Environ() {
		if name, value, _ := strings.Cut(kv, "="); strings.HasPrefix(name, EnvRunnerToken+"_") {
			s.FleetTokens[name] = NewSecret(value)
		}
	}
	return s
}
