package bootstrap

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
)

// DockerMachineVersion is GitLab's maintained fork of docker-machine, the
// version gitlab-runner's documentation installs ("Using the forked version
// of Docker Machine", docs/executors/docker_machine.md in gitlab-runner 19.4).
const DockerMachineVersion = "v0.16.2-gitlab.48"

// RunnerDir is where gitlab-runner reads config.toml. The boot scripts
// take another directory from PROVISION_RUNNER_DIR, for their tests only.
const RunnerDir = "/etc/gitlab-runner"

// Manager is what the manager's user-data is rendered from.
type Manager struct {
	Runner
	RunnerVersion  string // empty: latest
	TokenParameter string // SSM parameter name
}

// cloudConfig is the subset of cloud-init's schema this tool uses.
type cloudConfig struct {
	PackageUpdate bool        `yaml:"package_update,omitempty"`
	Packages      []string    `yaml:"packages,omitempty"`
	WriteFiles    []writeFile `yaml:"write_files,omitempty"`
	Runcmd        [][]string  `yaml:"runcmd,omitempty"`
}

type writeFile struct {
	Path        string `yaml:"path"`
	Permissions string `yaml:"permissions"`
	Owner       string `yaml:"owner"`
	Content     string `yaml:"content"`
}

// ManagerUserData renders the manager's #cloud-config: Docker, the pinned
// gitlab-runner, the executor's plugin or docker-machine, config.toml with
// the token read from SSM at boot (mode 0600), and the service.
func ManagerUserData(m Manager) ([]byte, error) {
	cfgTOML, err := ConfigTOML(m.Runner)
	if err != nil {
		return nil, err
	}
	packages := []string{"docker", "gitlab-runner"}
	if m.RunnerVersion != "" {
		// Since 17.7 the helper images are a package of their own, pinned alike.
		packages = []string{"docker", "gitlab-runner-helper-images-" + m.RunnerVersion + "-1", "gitlab-runner-" + m.RunnerVersion + "-1"}
	}
	cc := cloudConfig{
		PackageUpdate: true,
		WriteFiles: []writeFile{
			{Path: RunnerDir + "/config.toml.template", Permissions: "0600", Owner: "root:root", Content: string(cfgTOML)},
			{Path: "/usr/local/sbin/provision-runner-config", Permissions: "0700", Owner: "root:root", Content: TokenScript(m)},
			{Path: "/usr/local/sbin/provision-token-sync", Permissions: "0700", Owner: "root:root", Content: TokenSyncScript(m)},
			{Path: "/etc/systemd/system/provision-token-sync.path", Permissions: "0644", Owner: "root:root", Content: tokenSyncPath},
			{Path: "/etc/systemd/system/provision-token-sync.service", Permissions: "0644", Owner: "root:root", Content: tokenSyncService},
			{Path: "/etc/systemd/system/gitlab-runner.service.d/provision.conf", Permissions: "0644", Owner: "root:root",
				Content: "# The AWS SDK in gitlab-runner and its plugins finds the region here.\n[Service]\nEnvironment=AWS_REGION=" + m.Region + "\n"},
		},
		Runcmd: [][]string{
			{"systemctl", "enable", "--now", "docker"},
			// GitLab's documented repository setup; the script is kept as a file, not piped.
			{"curl", "-fsSL", "-o", "/root/gitlab-runner-repo.sh", "https://packages.gitlab.com/install/repositories/runner/gitlab-runner/script.rpm.sh"},
			{"bash", "/root/gitlab-runner-repo.sh"},
			append([]string{"dnf", "install", "-y"}, packages[1:]...),
			{"/usr/local/sbin/provision-runner-config"},
		},
	}
	cc.Packages = packages[:1]
	switch m.Executor {
	case DockerAutoscaler:
		cc.Runcmd = append(cc.Runcmd, []string{"gitlab-runner", "fleeting", "install"})
	case DockerMachine:
		cc.WriteFiles = append(cc.WriteFiles, writeFile{Path: "/usr/local/sbin/provision-install-docker-machine", Permissions: "0700", Owner: "root:root", Content: dockerMachineScript})
		cc.Runcmd = append(cc.Runcmd, []string{"/usr/local/sbin/provision-install-docker-machine"})
	}
	cc.Runcmd = append(cc.Runcmd,
		[]string{"systemctl", "daemon-reload"},
		[]string{"systemctl", "enable", "--now", "provision-token-sync.path"},
		[]string{"systemctl", "enable", "gitlab-runner"},
		[]string{"systemctl", "restart", "gitlab-runner"})
	return render(fmt.Sprintf("provision %s: runner manager. The runner token is read from SSM Parameter Store at boot and is not part of this document.", m.Stack), cc)
}

// TokenScript reads the token from SSM with the instance role, asks GitLab
// when it expires, and writes config.toml readable by root only. The token
// lives in this shell's memory, in root-only files and on curl's standard
// input: never in a command's arguments, which every local user can read
// in /proc while the command runs. Only shell built-ins (parameter
// expansion, printf, here-strings) touch it.
func TokenScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Reads the runner token from SSM, asks GitLab when it expires, writes config.toml (mode 0600).",
		"set -euo pipefail",
		"umask 077",
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		"for attempt in 1 2 3 4 5 6 7 8 9 10; do",
		fmt.Sprintf("  token=$(aws ssm get-parameter --region %s --name %s --with-decryption --query Parameter.Value --output text) && break", m.Region, m.TokenParameter),
		"  sleep $((attempt * 3))",
		"done",
		`if [[ ! "${token:-}" =~ ^glrt-[A-Za-z0-9_.-]+$ ]]; then`,
		fmt.Sprintf(`  echo "provision: %s does not hold a runner authentication token (glrt-...)" >&2`, m.TokenParameter),
		"  exit 1",
		"fi",
		"obtained=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
		"# gitlab-runner's way of writing \"does not expire\".",
		"expires=0001-01-01T00:00:00Z",
		"# GitLab's group may admit this address only a little after boot: ask for up to five minutes.",
		`answer=""`,
		"for attempt in $(seq 1 30); do",
		fmt.Sprintf(`  if answer=$(curl -sS --fail --max-time 10 -H 'Content-Type: application/json' --data-binary @- %s/api/v4/runners/verify <<<"{\"token\":\"${token}\"}"); then break; fi`, strings.TrimRight(m.GitLabURL, "/")),
		`  answer=""`,
		"  sleep 10",
		"done",
		`if [[ $answer =~ \"token_expires_at\":[[:space:]]*\"([^\"]+)\" ]]; then`,
		"  expires=${BASH_REMATCH[1]}",
		`elif [[ -z $answer ]]; then`,
		`  echo "provision: GitLab did not confirm the runner token; config.toml is written without its expiry, so gitlab-runner will not renew it" >&2`,
		"fi",
		`template=$(<"$dir/config.toml.template")`,
		"config=${template//" + TokenPlaceholder + "/$token}",
		"config=${config//" + TokenObtainedPlaceholder + "/$obtained}",
		"config=${config//" + TokenExpiresPlaceholder + "/$expires}",
		`printf '%s\n' "$config" > "$dir/config.toml.new"`,
		`mv "$dir/config.toml.new" "$dir/config.toml"`,
		"",
	}, "\n")
}

// TokenSyncScript runs whenever config.toml changes. gitlab-runner
// rewrites the file when it renews its token; the renewed token is then
// stored in SSM, so a manager that replaces this one boots with a token
// GitLab still accepts (the old one stops working soon after a renewal).
// The instance role may write this one parameter and no other.
func TokenSyncScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Stores a runner token that gitlab-runner renewed in SSM (mode 0600 files only, never in arguments).",
		"set -euo pipefail",
		"umask 077",
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		`config=$(<"$dir/config.toml")`,
		`q="[\"']"`,
		`re="(^|[[:space:]])token[[:space:]]*=[[:space:]]*${q}(glrt-[A-Za-z0-9_.-]+)${q}"`,
		"[[ $config =~ $re ]] || exit 0",
		"renewed=${BASH_REMATCH[2]}",
		fmt.Sprintf("stored=$(aws ssm get-parameter --region %s --name %s --with-decryption --query Parameter.Value --output text)", m.Region, m.TokenParameter),
		`[[ $renewed == "$stored" ]] && exit 0`,
		"tmp=$(mktemp -d)",
		`trap 'rm -rf "$tmp"' EXIT`,
		`printf '%s' "$renewed" > "$tmp/token"`,
		fmt.Sprintf(`aws ssm put-parameter --region %s --name %s --type SecureString --overwrite --value "file://$tmp/token" >/dev/null`, m.Region, m.TokenParameter),
		fmt.Sprintf(`echo "provision: stored the renewed runner token in %s"`, m.TokenParameter),
		"",
	}, "\n")
}

const tokenSyncPath = `[Unit]
Description=provision: notice gitlab-runner renewing its token

[Path]
PathChanged=` + RunnerDir + `/config.toml

[Install]
WantedBy=multi-user.target
`

const tokenSyncService = `[Unit]
Description=provision: store a renewed runner token in SSM

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/provision-token-sync
`

// dockerMachineScript installs GitLab's docker-machine for the manager's
// own architecture: GitLab publishes docker-machine-Linux-x86_64 and
// docker-machine-Linux-aarch64, the names uname -m gives on x86 and Graviton
// (a t4g manager with the x86_64 binary fails with "exec format error").
var dockerMachineScript = strings.Join([]string{
	"#!/bin/bash",
	"# Installs GitLab's fork of docker-machine for this machine's architecture.",
	"set -euo pipefail",
	"arch=$(uname -m)",
	fmt.Sprintf(`curl -fsSL --retry 5 -o /usr/local/bin/docker-machine "https://gitlab-docker-machine-downloads.s3.amazonaws.com/%s/docker-machine-Linux-${arch}"`, DockerMachineVersion),
	"chmod 0755 /usr/local/bin/docker-machine",
	"",
}, "\n")

// MachineUserData renders the runner machines' #cloud-config for the
// docker-autoscaler launch template: Docker, usable by ec2-user (the
// fleeting connector's user), and the EC2 Instance Connect agent.
func MachineUserData(stack string) ([]byte, error) {
	cc := cloudConfig{
		Packages: []string{"docker", "ec2-instance-connect"},
		Runcmd: [][]string{
			{"systemctl", "enable", "--now", "docker"},
			{"usermod", "-aG", "docker", "ec2-user"},
		},
	}
	return render(fmt.Sprintf("provision %s: runner machine.", stack), cc)
}

func render(comment string, cc cloudConfig) ([]byte, error) {
	body, err := yaml.MarshalWithOptions(cc, yaml.UseLiteralStyleIfMultiline(true), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("render cloud-config: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("#cloud-config\n# " + comment + "\n")
	b.Write(body)
	return b.Bytes(), nil
}
