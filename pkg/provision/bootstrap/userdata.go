package bootstrap

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// DockerMachineVersion is GitLab's maintained fork of docker-machine, the
// version gitlab-runner's documentation installs ("Using the forked version
// of Docker Machine", docs/executors/docker_machine.md in gitlab-runner 19.4).
const DockerMachineVersion = "v0.16.2-gitlab.48"

// RunnerDir is where gitlab-runner reads config.toml. The boot scripts
// take another directory from PROVISION_RUNNER_DIR, for their tests only.
const RunnerDir = "/etc/gitlab-runner"

// ValuesPath holds every value the boot scripts take from the
// configuration (the region, parameter names, GitLab's address, the
// runner version), one KEY=VALUE a line. The scripts read it as data:
// no value of the configuration is ever part of a script's text, so none
// can become code in a root shell, whatever it holds. The scripts take
// another file from PROVISION_VALUES, for their tests only.
const ValuesPath = "/etc/provision/manager.values"

// SbinDir holds the boot scripts. The scripts take another directory
// from PROVISION_SBIN, for their tests only.
const SbinDir = "/usr/local/sbin"

// Boot stages the manager reports, in the order it passes them. The
// report's last stage is StageOnline with status "ok".
const (
	StagePackages        = "packages"
	StageDocker          = "docker"
	StageRunner          = "gitlab-runner-installed"
	StageTokenRead       = "token-read"
	StageTokenVerified   = "token-verified"
	StageConfigWritten   = "config-written"
	StagePluginInstalled = "plugin-installed"
	StageServiceRunning  = "service-running"
	StageOnline          = "online"
)

// Stages are the boot stages in the order the boot passes them: a report
// of one stage means every stage before it passed.
var Stages = []string{StagePackages, StageDocker, StageRunner, StageTokenRead, StageTokenVerified,
	StageConfigWritten, StagePluginInstalled, StageServiceRunning, StageOnline}

// Manager is what the manager's user-data is rendered from.
type Manager struct {
	Runner
	RunnerVersion string // empty: latest
	// TokenParameter is the default fleet's token parameter; another
	// fleet's is this name, "." and the fleet's name. The fleets are those
	// of the runner configuration (its token placeholders), not of the
	// user-data: a fleet added or removed is applied like any tuning.
	TokenParameter string
	// DockerMachine: some fleet uses docker+machine (its driver is
	// installed); Fleeting: some fleet uses docker-autoscaler (its plugin
	// is installed).
	DockerMachine, Fleeting bool
	// SSHKeyParameter holds the machines' private key (Runner.StaticKey);
	// MachinesKey is its public half, written into the user-data as a
	// comment so that a new key is a new bootstrap.
	SSHKeyParameter string
	MachinesKey     string
	// DrainParameter is where a drain is asked for (docker-autoscaler; ""
	// for none).
	DrainParameter string
	// BootParameter is the SSM parameter the manager writes each boot
	// stage to, as JSON {"stage", "status", "detail", "time", "config"}.
	BootParameter string
	// ConfigParameter holds the runner configuration (ConfigTOML, with
	// the token and group as placeholders). The manager reads it at boot
	// and applies each new version within ConfigPollSeconds; gitlab-runner
	// reloads config.toml by itself, so tuning needs no new manager.
	ConfigParameter string
	// LogGroup is the CloudWatch Logs group the manager ships its journal
	// to (provision-logs); "" ships nothing.
	LogGroup string
	// Group is this manager generation's Auto Scaling group
	// (docker-autoscaler), put where the configuration has GroupPlaceholder.
	Group string
}

// executors are the executors the manager is set up for, as the values
// file says them (what it installs follows from them, not from one fleet).
func (m Manager) executors() string {
	var out []string
	if m.Fleeting {
		out = append(out, DockerAutoscaler)
	}
	if m.DockerMachine {
		out = append(out, DockerMachine)
	}
	return strings.Join(out, " ")
}

// MaxDrainTimeout is the longest manager.drain_timeout: the bound of the
// graceful stop on the manager.
const MaxDrainTimeout = 24 * time.Hour

// ConfigPollSeconds is how often the manager looks for a new version of
// the runner configuration: one small GetParameter call each time.
const ConfigPollSeconds = 20

// StateDir holds what the manager's scripts keep between runs: the
// configuration version applied, "booted", "draining". The scripts take
// another directory from PROVISION_STATE, for their tests only.
const StateDir = "/var/lib/provision"

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
	// Encoding is "b64" when Content is base64 (see render).
	Encoding string `yaml:"encoding,omitempty"`
	Content  string `yaml:"content"`
}

// ManagerUserData renders the manager's #cloud-config: Docker, the pinned
// gitlab-runner, the executor's plugin or docker-machine, config.toml with
// the token read from SSM at boot (mode 0600), and the service.
func ManagerUserData(m Manager) ([]byte, error) {
	// The region is also written into a systemd unit, which is not shell
	// but has a syntax of its own: only a region's characters go there.
	if !RegionName.MatchString(m.Region) {
		return nil, fmt.Errorf("render the manager's user-data: %q is not a region name", m.Region)
	}
	cc := cloudConfig{
		WriteFiles: []writeFile{
			{Path: ValuesPath, Permissions: "0600", Owner: "root:root", Content: ManagerValues(m)},
			{Path: SbinDir + "/provision-boot", Permissions: "0700", Owner: "root:root", Content: BootScript(m)},
			{Path: SbinDir + "/provision-boot-report", Permissions: "0700", Owner: "root:root", Content: ReportScript(m)},
			{Path: SbinDir + "/provision-runner-config", Permissions: "0700", Owner: "root:root", Content: TokenScript(m)},
			{Path: SbinDir + "/provision-config-apply", Permissions: "0700", Owner: "root:root", Content: ConfigApplyScript(m)},
			{Path: SbinDir + "/provision-token-sync", Permissions: "0700", Owner: "root:root", Content: TokenSyncScript(m)},
			{Path: "/etc/systemd/system/provision-token-sync.path", Permissions: "0644", Owner: "root:root", Content: tokenSyncPath},
			{Path: "/etc/systemd/system/provision-token-sync.service", Permissions: "0644", Owner: "root:root", Content: tokenSyncService},
			{Path: "/etc/systemd/system/provision-token-sync.timer", Permissions: "0644", Owner: "root:root", Content: tokenSyncTimer},
			{Path: "/etc/systemd/system/provision-config.timer", Permissions: "0644", Owner: "root:root", Content: configTimerUnit},
			{Path: "/etc/systemd/system/provision-config.service", Permissions: "0644", Owner: "root:root", Content: configService},
			{Path: SbinDir + "/provision-logs", Permissions: "0700", Owner: "root:root", Content: LogShipperScript},
			{Path: "/etc/systemd/system/provision-logs.service", Permissions: "0644", Owner: "root:root", Content: logShipperService},
			{Path: "/etc/systemd/system/gitlab-runner.service.d/provision.conf", Permissions: "0644", Owner: "root:root", Content: serviceDropIn(m)},
		},
		// One script does the whole boot, stage by stage, so the first
		// failing stage stops it and is reported (runcmd would go on).
		Runcmd: [][]string{{SbinDir + "/provision-boot"}},
	}
	if m.DockerMachine {
		cc.WriteFiles = append(cc.WriteFiles, writeFile{Path: SbinDir + "/provision-install-docker-machine", Permissions: "0700", Owner: "root:root", Content: dockerMachineScript})
	}
	if m.DrainParameter != "" {
		cc.WriteFiles = append(cc.WriteFiles,
			writeFile{Path: SbinDir + "/provision-drain", Permissions: "0700", Owner: "root:root", Content: DrainScript(m)},
			writeFile{Path: "/etc/systemd/system/provision-drain.timer", Permissions: "0644", Owner: "root:root", Content: drainTimerUnit},
			writeFile{Path: "/etc/systemd/system/provision-drain.service", Permissions: "0644", Owner: "root:root", Content: drainService})
	}
	return render("provision: runner manager. The runner token and the runner configuration are read from SSM Parameter Store and are not part of this document.", cc)
}

// RegionName is the shape of an AWS region's name, which configuration
// validation checks too.
var RegionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ManagerValues is the file at ValuesPath. A value holds no newline
// (configuration values are refused with control characters, and the
// names here are made by provision), so a line is one value.
func ManagerValues(m Manager) string {
	var b strings.Builder
	oneLine := strings.NewReplacer("\n", " ", "\r", " ")
	for _, kv := range [][2]string{
		{"stack", m.Stack}, {"region", m.Region}, {"gitlab_url", strings.TrimRight(m.GitLabURL, "/")},
		{"runner_version", m.RunnerVersion}, {"token_parameter", m.TokenParameter}, {"boot_parameter", m.BootParameter},
		{"ssh_key_parameter", m.SSHKeyParameter}, {"drain_parameter", m.DrainParameter},
		{"config_parameter", m.ConfigParameter}, {"autoscaling_group", m.Group}, {"executor", m.executors()},
		{"log_group", m.LogGroup},
		// The machines' public key: a new key is a new bootstrap.
		{"machines_key", m.MachinesKey},
	} {
		b.WriteString(kv[0] + "=" + oneLine.Replace(kv[1]) + "\n")
	}
	return b.String()
}

// fillTemplate turns the runner configuration's template into config.toml:
// the token, its dates and the manager's group in place of their
// placeholders.
// Each fleet's entry has its own placeholders (@RUNNER_TOKEN:NAME@; the
// default fleet's are the bare ones): the arrays tokens, obtained and
// expires hold each fleet's, by its name.
var fillTemplate = strings.Join([]string{
	"# Quoted replacements: bash 5.2 reads an unquoted & as the matched text.",
	"config=$template",
	`for fleet in "${fleets[@]}"; do`,
	"  # The default fleet's are bare in a stack of one fleet.",
	`  ats=(":$fleet"); [[ $fleet != ` + DefaultFleet + ` ]] || ats+=("")`,
	`  for at in "${ats[@]}"; do`,
	`    config=${config//@RUNNER_TOKEN$at@/"${tokens[$fleet]}"}`,
	`    config=${config//@TOKEN_OBTAINED_AT$at@/"${obtained[$fleet]}"}`,
	`    config=${config//@TOKEN_EXPIRES_AT$at@/"${expires[$fleet]}"}`,
	"  done",
	"done",
	`config=${config//` + GroupPlaceholder + `/"$group"}`,
}, "\n")

// parameterOf defines parameter_of FLEET, the fleet's token parameter:
// the default fleet's is token_parameter, another's that name, "." and
// the fleet's name (stack.Names.TokenParameter).
var parameterOf = strings.Join([]string{
	"base_parameter=$(value token_parameter)",
	`parameter_of() { if [[ $1 == ` + DefaultFleet + ` ]]; then printf '%s' "$base_parameter"; else printf '%s' "$base_parameter.$1"; fi; }`,
}, "\n")

// fleetTokens are the shell functions and arrays the scripts share:
// template_fleets sets fleets to the fleets of the configuration template
// at $1 (its token placeholders, in order); read_token and verify_token
// fill tokens, obtained and expires for one fleet, or set stage and why
// and fail. A token lives in shell variables and root-only files only,
// and reaches curl on its standard input: never in an argument.
var fleetTokens = strings.Join([]string{
	"declare -a fleets=()",
	"declare -A tokens=() obtained=() expires=()",
	parameterOf,
	"template_fleets() {",
	"  local p f",
	"  fleets=()",
	"  while read -r p; do",
	`    f=${p#@RUNNER_TOKEN}; f=${f%@}; f=${f#:}`,
	`    fleets+=("${f:-` + DefaultFleet + `}")`,
	`  done < <(grep -o '@RUNNER_TOKEN\(:[a-z0-9-]*\)\?@' "$1")`,
	`  [[ ${#fleets[@]} -gt 0 ]]`,
	"}",
	"read_token() {",
	`  local fleet=$1 parameter token="" attempt`,
	`  parameter=$(parameter_of "$fleet")`,
	"  for attempt in 1 2 3 4 5 6 7 8 9 10; do",
	`    token=$(aws ssm get-parameter --region "$region" --name "$parameter" --with-decryption --query Parameter.Value --output text 2>"$tmp/err") && break`,
	"    sleep $((attempt * 3))",
	"  done",
	`  if [[ ! "${token:-}" =~ ^glrt-[A-Za-z0-9_.-]+$ ]]; then`,
	`    stage=` + StageTokenRead + ` why="$parameter does not hold a runner authentication token (glrt-...): $(tail -c 400 "$tmp/err")"`,
	"    return 1",
	"  fi",
	`  tokens[$fleet]=$token`,
	"}",
	"# GitLab answers /runners/verify with 200 for a valid token and 403 for",
	"# any other. GitLab's group may admit this address only a little after",
	"# boot: no answer (or a 5xx) is asked again for up to five minutes.",
	"verify_token() {",
	`  local fleet=$1 code=000 attempt answer`,
	"  obtained[$fleet]=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
	"  # gitlab-runner's way of writing \"does not expire\".",
	"  expires[$fleet]=0001-01-01T00:00:00Z",
	"  for attempt in $(seq 1 30); do",
	`    code=$(curl -sS --proto =https,http --max-time 10 -o "$tmp/answer" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$gitlab/api/v4/runners/verify" <<<"{\"token\":\"${tokens[$fleet]}\"}" 2>"$tmp/err") || code=000`,
	`    [[ $code == 000 || $code == 5* ]] || break`,
	"    sleep 10",
	"  done",
	`  case $code in`,
	`    200|201) ;;`,
	`    000|5*)`,
	`      stage=` + StageTokenVerified + ` why="GitLab $gitlab not reachable from this machine on 443 (HTTP $code): $(tail -c 300 "$tmp/err")"`,
	"      return 1 ;;",
	`    *)`,
	`      stage=` + StageTokenVerified + ` why="GitLab rejected the runner token in $(parameter_of "$fleet") (HTTP $code): $(head -c 300 "$tmp/answer")"`,
	"      return 1 ;;",
	"  esac",
	`  answer=$(<"$tmp/answer")`,
	`  if [[ $answer =~ \"token_expires_at\":[[:space:]]*\"([^\"]+)\" ]]; then`,
	"    expires[$fleet]=${BASH_REMATCH[1]}",
	"  fi",
	"  # It goes into config.toml unquoted (a TOML datetime): anything but a",
	"  # datetime from GitLab's answer would become TOML of its own.",
	`  if [[ ! ${expires[$fleet]} =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]; then`,
	"    expires[$fleet]=0001-01-01T00:00:00Z",
	"  fi",
	"}",
}, "\n")

// tokenLine sets re to match config.toml's token line (gitlab-runner writes
// double quotes, the template single ones): the token is BASH_REMATCH[2].
var tokenLine = `q="[\"']"` + "\n" + `re="(^|[[:space:]])token[[:space:]]*=[[:space:]]*${q}(glrt-[A-Za-z0-9_.-]+)${q}"`

// privateAddress sets ip to the instance's private IPv4 address, from the
// instance metadata (IMDSv2).
var privateAddress = `imds=$(curl -sS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)` + "\n" +
	`ip=$(curl -sS --max-time 5 -H "X-aws-ec2-metadata-token: $imds" http://169.254.169.254/latest/meta-data/local-ipv4)`

// readValues starts every boot script: value KEY prints KEY's value
// from the values file, read as data by the shell's read built-in and
// never evaluated.
var readValues = strings.Join([]string{
	"values=${PROVISION_VALUES:-" + ValuesPath + "}",
	"state=${PROVISION_STATE:-" + StateDir + "}",
	"value() {",
	"  local key val",
	`  while IFS='=' read -r key val; do`,
	`    if [[ $key == "$1" ]]; then printf '%s' "$val"; return 0; fi`,
	`  done <"$values"`,
	"  return 1",
	"}",
}, "\n")

// BootScript installs and starts the manager stage by stage, reporting
// each stage (ReportScript); the first failing stage is reported with the
// end of its output and stops the boot. The output also goes to the
// console, where `provision up` reads it (GetConsoleOutput) when the boot
// fails: cloud-init's systemd units write their output to
// journal+console, "so it appears in the instance console output".
func BootScript(m Manager) string {
	// The fleeting plugin for docker-autoscaler fleets, docker-machine for
	// docker+machine ones (a stack may have both).
	plugin := "gitlab-runner fleeting install"
	switch {
	case m.DockerMachine && m.Fleeting:
		plugin = `bash -c 'gitlab-runner fleeting install && "$1"' _ "$sbin/provision-install-docker-machine"`
	case m.DockerMachine:
		plugin = `"$sbin/provision-install-docker-machine"`
	}
	return strings.Join([]string{
		"#!/bin/bash",
		"# Boots the runner manager stage by stage and reports each stage to SSM.",
		"set -uo pipefail",
		"sbin=${PROVISION_SBIN:-" + SbinDir + "}",
		readValues,
		"# Since 17.7 the helper images are a package of their own, pinned alike.",
		"version=$(value runner_version)",
		"packages=(gitlab-runner)",
		`[[ -z $version ]] || packages=("gitlab-runner-helper-images-$version-1" "gitlab-runner-$version-1")`,
		"# stage NAME COMMAND...: runs COMMAND; reports NAME ok, or failed with the end of its output and stops.",
		"stage() {",
		"  local name=$1 out rc",
		"  shift",
		"  out=$(mktemp)",
		`  "$@" >"$out" 2>&1`,
		"  rc=$?",
		`  cat "$out"`,
		"  if [[ $rc -ne 0 ]]; then",
		`    "$sbin/provision-boot-report" "$name" failed "$(tail -n 8 "$out" | tail -c 700)"`,
		`    rm -f "$out"`,
		`    echo "provision: boot stage $name failed" >&2`,
		"    exit 1",
		"  fi",
		`  rm -f "$out"`,
		`  "$sbin/provision-boot-report" "$name" ok ""`,
		"}",
		"install_runner() {",
		"  # GitLab's documented repository setup; the script is kept as a file, not piped.",
		"  local repo",
		"  repo=$(mktemp)",
		`  curl -fsSL --retry 5 -o "$repo" https://packages.gitlab.com/install/repositories/runner/gitlab-runner/script.rpm.sh &&`,
		`    bash "$repo" &&`,
		`    dnf install -y "${packages[@]}"`,
		"}",
		"start_service() {",
		"  systemctl daemon-reload &&",
		"    systemctl enable --now provision-token-sync.path provision-token-sync.timer provision-config.timer" + drainTimer(m) + " &&",
		"    systemctl enable gitlab-runner &&",
		"    systemctl restart gitlab-runner &&",
		"    systemctl is-active gitlab-runner",
		"}",
		"# gitlab-runner verify exits non-zero unless GitLab accepts every runner",
		"# in config.toml, and GitLab records the contact (commands/verify.go).",
		"online() {",
		"  for attempt in $(seq 1 12); do",
		"    gitlab-runner verify && return 0",
		"    sleep 5",
		"  done",
		"  return 1",
		"}",
		"# The journal goes to CloudWatch Logs from the first stage on, so a failed",
		"# boot can be read with provision logs; shipping never fails the boot.",
		"systemctl daemon-reload && systemctl enable --now provision-logs.service || true",
		"stage " + StagePackages + " dnf install -y docker",
		"stage " + StageDocker + " systemctl enable --now docker",
		"stage " + StageRunner + " install_runner",
		"# Reports " + StageTokenRead + ", " + StageTokenVerified + " and " + StageConfigWritten + " itself.",
		`"$sbin/provision-runner-config" || exit 1`,
		"stage " + StagePluginInstalled + " " + plugin,
		"stage " + StageServiceRunning + " start_service",
		"stage " + StageOnline + " online",
		"# From now on provision-config-apply may apply new configurations.",
		`touch "$state/booted"`,
		"",
	}, "\n")
}

// ReportScript writes one boot stage to the boot parameter: JSON with the
// stage, ok or failed, a detail and the time. A runner token never leaves
// the machine, not even inside an error message. Reporting never fails
// the boot: a manager without a report is diagnosed from the outside.
func ReportScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# provision-boot-report STAGE ok|failed [DETAIL]: writes a boot stage to the boot parameter.",
		"set -uo pipefail",
		readValues,
		"region=$(value region) parameter=$(value boot_parameter)",
		"stage=$1 status=$2 detail=${3:-}",
		"# The runner configuration version this manager runs (provision-config-apply).",
		`config=$(cat "$state/config-version" 2>/dev/null || true)`,
		`[[ $config =~ ^[0-9]+$ ]] || config=""`,
		`detail=$(sed -E 's/glrt-[A-Za-z0-9_.-]+/glrt-[redacted]/g' <<<"$detail" | tr -d '\000-\010\013\014\016-\037')`,
		`detail=${detail//\\/\\\\}`,
		`detail=${detail//\"/\\\"}`,
		`detail=${detail//$'\r'/}`,
		`detail=${detail//$'\t'/ }`,
		`detail=${detail//$'\n'/\\n}`,
		`json=$(printf '{"stage":"%s","status":"%s","detail":"%s","time":"%s","config":"%s"}' "$stage" "$status" "$detail" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$config")`,
		"for attempt in 1 2 3; do",
		`  aws ssm put-parameter --region "$region" --name "$parameter" --type String --overwrite --value "$json" >/dev/null && exit 0`,
		"  sleep 2",
		"done",
		`echo "provision: could not write boot stage $stage to $parameter" >&2`,
		"",
	}, "\n")
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
		"# Reads each fleet's runner token from SSM, asks GitLab when it expires, writes config.toml (mode 0600).",
		"set -euo pipefail",
		"umask 077",
		readValues,
		"region=$(value region) gitlab=$(value gitlab_url)",
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		"report=${PROVISION_SBIN:-" + SbinDir + "}/provision-boot-report",
		"tmp=$(mktemp -d)",
		`trap 'rm -rf "$tmp"' EXIT`,
		`mkdir -p "$state"`,
		fleetTokens,
		"# The runner configuration: one exact version of its parameter. Its",
		"# entries name the fleets whose tokens are read.",
		"config_parameter=$(value config_parameter) group=$(value autoscaling_group)",
		"for attempt in 1 2 3 4 5 6 7 8 9 10; do",
		`  version=$(aws ssm get-parameter --region "$region" --name "$config_parameter" --query Parameter.Version --output text 2>"$tmp/err") &&`,
		`    [[ $version =~ ^[0-9]+$ ]] &&`,
		`    aws ssm get-parameter --region "$region" --name "$config_parameter:$version" --with-decryption --query Parameter.Value --output text >"$tmp/template" 2>"$tmp/err" && break`,
		"  sleep $((attempt * 3))",
		"done",
		`if ! template_fleets "$tmp/template" 2>/dev/null; then`,
		`  "$report" ` + StageConfigWritten + ` failed "$config_parameter does not hold the runner configuration: $(tail -c 400 "$tmp/err")"`,
		"  exit 1",
		"fi",
		`for fleet in "${fleets[@]}"; do`,
		`  read_token "$fleet" || { "$report" "$stage" failed "$why"; exit 1; }`,
		"done",
		`"$report" ` + StageTokenRead + ` ok ""`,
		`verified=""`,
		`for fleet in "${fleets[@]}"; do`,
		`  verify_token "$fleet" || { "$report" "$stage" failed "$why"; exit 1; }`,
		"  # The first fleet's expiry first: status reads it from here.",
		`  if [[ -z $verified ]]; then verified="expires ${expires[$fleet]}"; else verified="$verified, $fleet expires ${expires[$fleet]}"; fi`,
		"done",
		`"$report" ` + StageTokenVerified + ` ok "$verified"`,
		staticKeyLines(m),
		`template=$(<"$tmp/template")`,
		fillTemplate,
		metricsLines(m),
		`printf '%s\n' "$config" > "$dir/config.toml.new"`,
		`mv "$dir/config.toml.new" "$dir/config.toml"`,
		`printf '%s\n' "$version" > "$state/config-version"`,
		`"$report" ` + StageConfigWritten + ` ok "runner configuration version $version"`,
		"",
	}, "\n")
}

// metricsLines put the manager's private address (IMDSv2) into
// listen_address, so the metrics endpoint listens on the private
// interface only.
func metricsLines(m Manager) string {
	if !m.Metrics {
		return ""
	}
	return strings.Join([]string{
		privateAddress,
		`if [[ ! $ip =~ ^[0-9.]+$ ]]; then`,
		fmt.Sprintf(`  "$report" %s failed "the instance metadata gave no private address for listen_address"`, StageConfigWritten),
		"  exit 1",
		"fi",
		`config=${config//` + ListenPlaceholder + `/"$ip"}`,
	}, "\n")
}

// staticKeyLines write the machines' private key where config.toml's
// key_path points, readable by root only (umask 077); the key, like the
// token, is never an argument of a command.
func staticKeyLines(m Manager) string {
	if !m.StaticKey {
		return ""
	}
	return strings.Join([]string{
		"key_parameter=$(value ssh_key_parameter)",
		"for attempt in 1 2 3 4 5; do",
		`  aws ssm get-parameter --region "$region" --name "$key_parameter" --with-decryption --query Parameter.Value --output text >"$tmp/key" 2>"$tmp/err" && break`,
		"  sleep $((attempt * 3))",
		"done",
		`if ! grep -q "PRIVATE KEY" "$tmp/key"; then`,
		`  "$report" ` + StageConfigWritten + ` failed "$key_parameter does not hold the machines' SSH key: $(tail -c 400 "$tmp/err")"`,
		"  exit 1",
		"fi",
		`mv "$tmp/key" "$dir/` + path.Base(StaticKeyPath) + `"`,
	}, "\n")
}

// serviceDropIn adds to gitlab-runner's unit: the region for the AWS SDK,
// and with a drain the graceful stop gitlab-runner documents ("Overriding
// default stopping behavior"): systemd stops it with SIGQUIT, on which it
// takes no new job and finishes the running ones, for up to TimeoutStopSec.
func serviceDropIn(m Manager) string {
	s := "# The AWS SDK in gitlab-runner and its plugins finds the region here.\n[Service]\nEnvironment=AWS_REGION=" + m.Region + "\n"
	if m.DrainParameter != "" {
		// SIGQUIT goes to gitlab-runner alone (KillMode=mixed): it stops
		// taking jobs and exits when they end, and its fleeting plugin and
		// job processes must not get the signal themselves (gitlab-runner's
		// docs warn against signalling its subprocesses); whatever is left
		// when TimeoutStopSec ends is killed.
		// The stop may take as long as the longest manager.drain_timeout:
		// provision itself ends a drain at the configured limit (drain/
		// manager terminates the instance), so the limit is tuning, not
		// part of the bootstrap.
		s += fmt.Sprintf("# Stopping finishes the running jobs first (provision-drain).\nKillMode=mixed\nKillSignal=SIGQUIT\nTimeoutStopSec=%d\n", int(MaxDrainTimeout/time.Second))
	}
	return s
}

// drainTimer is the unit that looks for drain requests, to start with
// the others ("" without drains).
func drainTimer(m Manager) string {
	if m.DrainParameter == "" {
		return ""
	}
	return " provision-drain.timer"
}

// DrainScript answers a drain request: when the drain parameter names this
// instance, gitlab-runner is stopped gracefully (it returns once the
// running jobs are done, or TimeoutStopSec), the answer is written, and
// the manager powers off.
func DrainScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Stops gitlab-runner gracefully when the drain parameter names this instance, then answers.",
		"set -uo pipefail",
		readValues,
		"region=$(value region) parameter=$(value drain_parameter)",
		`imds=$(curl -sS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)`,
		`id=$(curl -sS --max-time 5 -H "X-aws-ec2-metadata-token: $imds" http://169.254.169.254/latest/meta-data/instance-id)`,
		`asked=$(aws ssm get-parameter --region "$region" --name "$parameter" --query Parameter.Value --output text 2>/dev/null)`,
		`[[ -n $id && $asked == "$id" ]] || exit 0`,
		"umask 077",
		"# Draining: no new configuration is applied, and gitlab-runner renews",
		"# no token. The new manager runs with the token in SSM; a renewal here",
		"# would end it. gitlab-runner renews only while config.toml says when",
		"# the token expires: the expiry goes, and the file is reloaded (within",
		"# its 3 s reload interval) before the graceful stop.",
		`mkdir -p "$state"`,
		"# The lock provision-config-apply takes: no apply is half done.",
		`exec 9>"$state/config.lock"`,
		"flock 9",
		`touch "$state/draining"`,
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		`if [[ -f $dir/config.toml ]]; then`,
		`  sed -E 's/^([[:space:]]*token_expires_at[[:space:]]*=).*/\1 0001-01-01T00:00:00Z/' "$dir/config.toml" > "$dir/config.toml.drain" &&`,
		`    mv "$dir/config.toml.drain" "$dir/config.toml"`,
		"  sleep 5",
		"fi",
		"exec 9>&-",
		"systemctl stop gitlab-runner",
		"systemctl disable --now provision-drain.timer",
		`aws ssm put-parameter --region "$region" --name "$parameter" --type String --overwrite --value "drained $id" >/dev/null`,
		"# The drain's last lines reach the log group before the machine goes:",
		"# one last round, with the service (which keeps the same cursors) stopped.",
		"systemctl stop provision-logs.service",
		`"${PROVISION_SBIN:-` + SbinDir + `}/provision-logs" --once || true`,
		"# Its jobs done, the manager goes: provision sets the instance to",
		"# terminate on power-off when it does not wait (up --no-wait), and",
		"# terminates it itself otherwise.",
		"systemctl poweroff",
		"",
	}, "\n")
}

// LogUnits are the unit groups the manager ships (files/provision-logs,
// UNITS), each one stream per instance (UNIT/INSTANCE-ID): gitlab-runner;
// its boot (cloud-init and provision's boot script); a drain; provision's
// other units (applying a new runner configuration, storing a renewed
// token).
var LogUnits = []string{"gitlab-runner", "boot", "drain", "provision"}

// LogShipperScript ships the journal (files/provision-logs).
//
//go:embed files/provision-logs
var LogShipperScript string

// logShipperService keeps the shipper running from the first boot stage
// on, and starts it again should it stop.
const logShipperService = `[Unit]
Description=provision: ship the manager's journal to CloudWatch Logs
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/local/sbin/provision-logs
Restart=always
RestartSec=10
# Beside gitlab-runner on a small instance: a bound, not a risk.
MemoryMax=128M

[Install]
WantedBy=multi-user.target
`

const drainTimerUnit = `[Unit]
Description=provision: look for a drain request every 15 s

[Timer]
OnBootSec=60
OnUnitActiveSec=15

[Install]
WantedBy=timers.target
`

// drainService may run as long as the jobs do: a oneshot unit is
// otherwise stopped after DefaultTimeoutStartSec (90 s).
const drainService = `[Unit]
Description=provision: finish the running jobs when asked to drain

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/usr/local/sbin/provision-drain
`

// TokenSyncScript runs whenever config.toml changes. gitlab-runner
// rewrites the file when it renews its token; the renewed token is then
// stored in SSM, so a manager that replaces this one boots with a token
// GitLab still accepts (the old one stops working soon after a renewal).
// The instance role may write this one parameter and no other. The put
// names no --key-id: an overwrite keeps the parameter's KMS key (the
// stack's secrets key, which the role may use for this parameter).
func TokenSyncScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Stores runner tokens that gitlab-runner renewed in SSM (mode 0600 files only, never in arguments).",
		"set -euo pipefail",
		"umask 077",
		readValues,
		"region=$(value region) stack=$(value stack)",
		parameterOf,
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		readEntries,
		"tmp=$(mktemp -d)",
		`trap 'rm -rf "$tmp"' EXIT`,
		"failed=0",
		`for fleet in "${!current_tokens[@]}"; do`,
		`  parameter=$(parameter_of "$fleet") renewed=${current_tokens[$fleet]}`,
		`  stored=$(aws ssm get-parameter --region "$region" --name "$parameter" --with-decryption --query Parameter.Value --output text) || { failed=1; continue; }`,
		`  [[ $renewed == "$stored" ]] && continue`,
		`  printf '%s' "$renewed" > "$tmp/token"`,
		"  # A lost renewal ends the next manager at token-verified: the put is",
		"  # retried with backoff here, and the timer runs this again every ten",
		"  # minutes, so a failure now is made good later.",
		"  put=no",
		"  for attempt in 1 2 3 4 5 6; do",
		`    if aws ssm put-parameter --region "$region" --name "$parameter" --type SecureString --overwrite --value "file://$tmp/token" >/dev/null; then`,
		`      echo "provision: stored the renewed runner token in $parameter"`,
		"      put=yes",
		"      break",
		"    fi",
		"    sleep $((attempt * attempt * 2))",
		"  done",
		`  if [[ $put == no ]]; then`,
		`    echo "provision: could not store the renewed runner token in $parameter; the timer tries again" >&2`,
		"    failed=1",
		"  fi",
		"done",
		"exit $failed",
		"",
	}, "\n")
}

// readEntries reads config.toml's entries: current_tokens,
// current_obtained and current_expires hold each fleet's token and its two
// times, by fleet. An entry is its fleet's by its name: the stack's, or
// the stack's and the fleet's ("ci large"); gitlab-runner writes the name
// before the token. It writes the token with double quotes, the template
// with single ones; the times are TOML datetimes.
var readEntries = strings.Join([]string{
	`current=$(<"$dir/config.toml")`,
	"declare -A current_tokens=() current_obtained=() current_expires=()",
	tokenLine,
	`datetime='([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))'`,
	`name_re="^[[:space:]]*name[[:space:]]*=[[:space:]]*[\"']([^\"']*)[\"']"`,
	`obtained_re="^[[:space:]]*token_obtained_at[[:space:]]*=[[:space:]]*$datetime"`,
	`expires_re="^[[:space:]]*token_expires_at[[:space:]]*=[[:space:]]*$datetime"`,
	"entry=" + DefaultFleet + " named=no",
	"while IFS= read -r line; do",
	"  # An entry's own name comes before its sub-tables (whose names, such",
	"  # as plugin_config's group, are not the fleet's).",
	`  if [[ $line =~ ^[[:space:]]*\[\[runners\]\] ]]; then named=no`,
	`  elif [[ $named == no && $line =~ $name_re ]]; then`,
	`    entry=${BASH_REMATCH[1]} named=yes`,
	`    if [[ $entry == "$stack" ]]; then entry=` + DefaultFleet + `; else entry=${entry#"$stack "}; fi`,
	`    [[ $entry =~ ^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$ ]] || entry=""`,
	`  elif [[ -n $entry && $line =~ $re ]]; then current_tokens[$entry]=${BASH_REMATCH[2]}`,
	`  elif [[ -n $entry && $line =~ $obtained_re ]]; then current_obtained[$entry]=${BASH_REMATCH[1]}`,
	`  elif [[ -n $entry && $line =~ $expires_re ]]; then current_expires[$entry]=${BASH_REMATCH[1]}`,
	"  fi",
	`done <<<"$current"`,
}, "\n")

// ConfigApplyScript applies a new version of the runner configuration
// parameter: the template gets the token, its dates and the listen
// address that config.toml has now (gitlab-runner may have renewed the
// token since the boot) and this manager's group, and replaces
// config.toml, which gitlab-runner reloads by itself. A manager that is
// draining, or not booted yet, applies nothing. The version applied goes
// into every boot report ("config"), where provision reads it.
func ConfigApplyScript(m Manager) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"# Applies a new version of the runner configuration parameter to config.toml.",
		"set -euo pipefail",
		"umask 077",
		readValues,
		"region=$(value region) parameter=$(value config_parameter) group=$(value autoscaling_group) gitlab=$(value gitlab_url) stack=$(value stack)",
		`dir=${PROVISION_RUNNER_DIR:-` + RunnerDir + `}`,
		"report=${PROVISION_SBIN:-" + SbinDir + "}/provision-boot-report",
		`[[ -e $state/booted && ! -e $state/draining && -s $dir/config.toml ]] || exit 0`,
		"# One at a time with the drain (provision-drain), which may have begun.",
		`exec 9>"$state/config.lock"`,
		"flock -w 30 9 || exit 0",
		`[[ ! -e $state/draining ]] || exit 0`,
		`applied=$(cat "$state/config-version" 2>/dev/null || true)`,
		`version=$(aws ssm get-parameter --region "$region" --name "$parameter" --query Parameter.Version --output text)`,
		`[[ $version =~ ^[0-9]+$ ]] || exit 1`,
		`[[ $version == "$applied" ]] && exit 0`,
		"tmp=$(mktemp -d)",
		`trap 'rm -rf "$tmp"' EXIT`,
		fleetTokens,
		`aws ssm get-parameter --region "$region" --name "$parameter:$version" --with-decryption --query Parameter.Value --output text >"$tmp/template"`,
		`template_fleets "$tmp/template" || { echo "provision: $parameter version $version is not a runner configuration" >&2; exit 1; }`,
		readEntries,
		`[[ ${#current_tokens[@]} -gt 0 ]] || { echo "provision: config.toml holds no runner token" >&2; exit 1; }`,
		"# A fleet that config.toml has keeps the token gitlab-runner has now",
		"# (renewed or not); a fleet the configuration adds gets its token from",
		"# SSM, checked with GitLab as at boot; a fleet it drops goes.",
		`for fleet in "${fleets[@]}"; do`,
		`  if [[ -n ${current_tokens[$fleet]:-} ]]; then`,
		`    tokens[$fleet]=${current_tokens[$fleet]}`,
		`    obtained[$fleet]=${current_obtained[$fleet]:-0001-01-01T00:00:00Z}`,
		`    expires[$fleet]=${current_expires[$fleet]:-0001-01-01T00:00:00Z}`,
		"    continue",
		"  fi",
		`  if ! read_token "$fleet" || ! verify_token "$fleet"; then`,
		`    echo "provision: fleet $fleet of version $version: $why; the next run tries again" >&2`,
		"    exit 1",
		"  fi",
		`  echo "provision: fleet $fleet added"`,
		"done",
		`template=$(<"$tmp/template")`,
		"# The metrics endpoint listens on the private address only: never on all.",
		`if [[ $template == *` + ListenPlaceholder + `* ]]; then`,
		privateAddress,
		`  [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "provision: no private address for listen_address" >&2; exit 1; }`,
		"fi",
		fillTemplate,
		`config=${config//` + ListenPlaceholder + `/"${ip:-}"}`,
		`printf '%s\n' "$config" > "$dir/config.toml.new"`,
		"# gitlab-runner writes config.toml when it renews its token: if it did",
		"# since this read, its file stays and the next run applies again.",
		`if [[ $(<"$dir/config.toml") != "$current" ]]; then rm -f "$dir/config.toml.new"; exit 0; fi`,
		`mv "$dir/config.toml.new" "$dir/config.toml"`,
		`printf '%s\n' "$version" > "$state/config-version"`,
		`"$report" ` + StageOnline + ` ok "runner configuration version $version applied"`,
		`echo "provision: applied runner configuration version $version"`,
		"",
	}, "\n")
}

var configTimerUnit = fmt.Sprintf(`[Unit]
Description=provision: apply a new runner configuration every %d s

[Timer]
OnBootSec=60
OnUnitActiveSec=%d

[Install]
WantedBy=timers.target
`, ConfigPollSeconds, ConfigPollSeconds)

const configService = `[Unit]
Description=provision: apply a new version of the runner configuration

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/provision-config-apply
`

// tokenSyncTimer reconciles the token parameter with config.toml now and
// then, beside the path unit that reacts to each change.
const tokenSyncTimer = `[Unit]
Description=provision: store a renewed runner token in SSM, again every 10 minutes

[Timer]
OnBootSec=300
OnUnitActiveSec=600

[Install]
WantedBy=timers.target
`

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

// MachineImage says what the machines' image holds already.
type MachineImage struct {
	// ECSOptimized: AWS's ECS-optimized Amazon Linux 2023, which ships
	// Docker (enabled) and Amazon ECS's agent, but not the EC2 Instance
	// Connect agent (amazon-ecs-ami issue 170). Plain Amazon Linux 2023
	// ships the EC2 Instance Connect agent ("Install EC2 Instance
	// Connect" in the EC2 user guide lists AL2023 as preinstalled) and no
	// Docker.
	ECSOptimized bool
	// AmazonLinux: plain Amazon Linux 2023 (neither is set for an image
	// of runners.ami, which gets both packages).
	AmazonLinux bool
	// InstanceConnect: the connector pushes keys through EC2 Instance
	// Connect, so the machine needs its agent.
	InstanceConnect bool
}

// MachineUserData renders the runner machines' #cloud-config for the
// docker-autoscaler launch template: Docker running and usable by ec2-user
// (the fleeting connector's user), and what the connector needs. Only
// what the image lacks is installed: on the ECS-optimized image with
// static keys nothing is downloaded at boot, which is most of a cold
// start on plain Amazon Linux. ECS's agent is stopped: the machines join
// no ECS cluster.
func MachineUserData(stack string, img MachineImage) ([]byte, error) {
	cc := cloudConfig{}
	if !img.ECSOptimized {
		cc.Packages = append(cc.Packages, "docker")
	}
	if img.InstanceConnect && !img.AmazonLinux {
		cc.Packages = append(cc.Packages, "ec2-instance-connect")
	}
	if img.ECSOptimized {
		cc.Runcmd = append(cc.Runcmd, []string{"systemctl", "disable", "--now", "ecs"})
	}
	cc.Runcmd = append(cc.Runcmd,
		[]string{"systemctl", "enable", "--now", "docker"},
		[]string{"usermod", "-aG", "docker", "ec2-user"},
	)
	return render(fmt.Sprintf("provision %s: runner machine.", stack), cc)
}

// WindowsMachineUserData is a Windows machine's user-data: a PowerShell
// script EC2Launch runs at first boot (the ECS-optimized Windows image
// ships Docker and Amazon ECS's agent, which is stopped: the machines are
// no ECS cluster's). It lets WinRM answer over HTTP on 5985, which the
// fleeting plugin connects to; the security group and network ACL admit
// 5985 from the manager only.
func WindowsMachineUserData(stack string) []byte {
	return []byte(strings.Join([]string{
		"<powershell>",
		"# provision " + stack + ": Windows runner machine.",
		"Stop-Service -Name AmazonECS -ErrorAction SilentlyContinue",
		"Set-Service -Name AmazonECS -StartupType Disabled -ErrorAction SilentlyContinue",
		"Enable-PSRemoting -SkipNetworkProfileCheck -Force",
		"# Windows' own WinRM rules admit the local subnet only on the Public profile",
		"# an EC2 network has; the manager is in another subnet. The security group",
		"# and the network ACL admit 5985 from the manager alone.",
		"New-NetFirewallRule -Name provision-winrm-http -DisplayName 'provision: WinRM over HTTP from the manager' -Direction Inbound -Protocol TCP -LocalPort 5985 -Action Allow -Profile Any",
		"Start-Service -Name docker",
		"</powershell>",
		"<persist>false</persist>",
		"",
	}, "\n"))
}

// render writes the cloud-config. A file whose content is not plain
// printable ASCII is written base64-encoded (cloud-init's "encoding: b64"):
// cloud-init reads YAML with PyYAML, which takes U+0085, U+2028 and
// U+2029 for line breaks, so such a character inside a literal block
// would end it and let the rest become YAML of its own (another file, a
// root cron job). Base64 holds no character YAML can read as structure.
func render(comment string, cc cloudConfig) ([]byte, error) {
	for i, f := range cc.WriteFiles {
		if !plainText(f.Content) {
			cc.WriteFiles[i].Encoding = "b64"
			cc.WriteFiles[i].Content = base64.StdEncoding.EncodeToString([]byte(f.Content))
		}
	}
	body, err := yaml.MarshalWithOptions(cc, yaml.UseLiteralStyleIfMultiline(true), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("render cloud-config: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("#cloud-config\n# " + comment + "\n")
	if !plainText(comment) || strings.Contains(comment, "\n") {
		return nil, fmt.Errorf("render cloud-config: the comment %q is not one line of plain text", comment)
	}
	b.Write(body)
	return b.Bytes(), nil
}

// plainText reports whether s holds only printable ASCII, tabs and
// newlines: text a YAML literal block carries as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}
