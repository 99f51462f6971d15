package bootstrap

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
)

// DockerMachineVersion is GitLab's maintained fork of docker-machine.
const DockerMachineVersion = "v0.16.2-gitlab.27"

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
			{Path: "/etc/gitlab-runner/config.toml.template", Permissions: "0600", Owner: "root:root", Content: string(cfgTOML)},
			{Path: "/usr/local/sbin/provision-runner-config", Permissions: "0700", Owner: "root:root", Content: tokenScript(m)},
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
		arch := "x86_64"
		url := fmt.Sprintf("https://gitlab-docker-machine-downloads.s3.amazonaws.com/%s/docker-machine-Linux-%s", DockerMachineVersion, arch)
		cc.Runcmd = append(cc.Runcmd,
			[]string{"curl", "-fsSL", "-o", "/usr/local/bin/docker-machine", url},
			[]string{"chmod", "0755", "/usr/local/bin/docker-machine"})
	}
	cc.Runcmd = append(cc.Runcmd,
		[]string{"systemctl", "daemon-reload"},
		[]string{"systemctl", "enable", "gitlab-runner"},
		[]string{"systemctl", "restart", "gitlab-runner"})
	return render(fmt.Sprintf("provision %s: runner manager. The runner token is read from SSM Parameter Store at boot and is not part of this document.", m.Stack), cc)
}

// tokenScript fetches the token with the instance role and writes
// config.toml readable by root only.
func tokenScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Reads the runner token from SSM and writes config.toml (mode 0600).",
		"set -euo pipefail",
		"for attempt in 1 2 3 4 5 6 7 8 9 10; do",
		fmt.Sprintf("  token=$(aws ssm get-parameter --region %s --name %s --with-decryption --query Parameter.Value --output text) && break", m.Region, m.TokenParameter),
		"  sleep $((attempt * 3))",
		"done",
		`if [[ ! "${token:-}" =~ ^glrt-[A-Za-z0-9_.-]+$ ]]; then`,
		fmt.Sprintf(`  echo "provision: %s does not hold a runner authentication token (glrt-...)" >&2`, m.TokenParameter),
		"  exit 1",
		"fi",
		"umask 077",
		fmt.Sprintf(`sed "s|%s|${token}|" /etc/gitlab-runner/config.toml.template > /etc/gitlab-runner/config.toml.new`, TokenPlaceholder),
		"chmod 0600 /etc/gitlab-runner/config.toml.new",
		"mv /etc/gitlab-runner/config.toml.new /etc/gitlab-runner/config.toml",
		"",
	}, "\n")
}

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
