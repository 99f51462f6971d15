package bootstrap

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/pelletier/go-toml/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./pkg/provision/bootstrap -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// The default configuration.
func autoscalerRunner() Runner {
	return Runner{
		Stack: "ci-runners", Region: "ap-northeast-1", GitLabURL: "https://gitlab.example.com", Executor: DockerAutoscaler,
		Concurrent: 10, MaxInstances: 10, CapacityPerInstance: 1, IdleCount: 0, IdleTime: 5 * time.Minute,
		Image: "alpine:latest", AutoScalingGroup: "ci-runners-runners", MaxUseCount: 1, StaticKey: true,
	}
}

func machineRunner() Runner {
	r := autoscalerRunner()
	r.Executor = DockerMachine
	r.VPCID, r.SubnetID, r.Zone = "vpc-0123456789abcdef0", "subnet-0123456789abcdef0", "ap-northeast-1a"
	r.SecurityGroupName, r.InstanceType, r.InstanceProfile = "ci-runners-runner", "t3.medium", "ci-runners-ap-northeast-1-runner"
	r.AMI, r.RootSizeGB, r.Spot, r.SSHUser = "ami-0123456789abcdef0", 30, true, "ubuntu"
	r.Tags = map[string]string{"provision:stack": "ci-runners", "team": "ci"}
	r.AutoScalingGroup, r.StaticKey = "", false
	return r
}

// documentedConfig lists the config.toml keys gitlab-runner documents that
// this tool may write; decoding strictly into it rejects any other key.
type documentedConfig struct {
	ListenAddress string `toml:"listen_address"`
	Concurrent    int    `toml:"concurrent"`
	Runners       []struct {
		Name            string          `toml:"name"`
		URL             string          `toml:"url"`
		Token           string          `toml:"token"`
		TokenObtainedAt time.Time       `toml:"token_obtained_at"`
		TokenExpiresAt  time.Time       `toml:"token_expires_at"`
		Executor        string          `toml:"executor"`
		Shell           string          `toml:"shell"`
		Environment     []string        `toml:"environment"`
		Limit           int             `toml:"limit"`
		FeatureFlags    map[string]bool `toml:"feature_flags"`
		// gitlab-runner's cache/cacheconfig: [runners.cache] and its s3.
		Cache *struct {
			Type   string `toml:"Type"`
			Shared bool   `toml:"Shared"`
			S3     struct {
				BucketName         string `toml:"BucketName"`
				BucketLocation     string `toml:"BucketLocation"`
				AuthenticationType string `toml:"AuthenticationType"`
			} `toml:"s3"`
		} `toml:"cache"`
		Docker struct {
			Host       string   `toml:"host"`
			Image      string   `toml:"image"`
			Privileged bool     `toml:"privileged"`
			Volumes    []string `toml:"volumes"`
		} `toml:"docker"`
		Autoscaler *struct {
			Plugin               string `toml:"plugin"`
			CapacityPerInstance  int    `toml:"capacity_per_instance"`
			MaxUseCount          int    `toml:"max_use_count"`
			MaxInstances         int    `toml:"max_instances"`
			InstanceReadyCommand string `toml:"instance_ready_command"`
			PluginConfig         struct {
				Name            string `toml:"name"`
				Profile         string `toml:"profile"`
				ConfigFile      string `toml:"config_file"`
				CredentialsFile string `toml:"credentials_file"`
				Region          string `toml:"region"`
			} `toml:"plugin_config"`
			ConnectorConfig struct {
				OS                   string `toml:"os"`
				Protocol             string `toml:"protocol"`
				Username             string `toml:"username"`
				UseExternalAddr      bool   `toml:"use_external_addr"`
				UseStaticCredentials bool   `toml:"use_static_credentials"`
				KeyPath              string `toml:"key_path"`
			} `toml:"connector_config"`
			Policy []struct {
				IdleCount   int      `toml:"idle_count"`
				IdleTime    string   `toml:"idle_time"`
				Periods     []string `toml:"periods"`
				Timezone    string   `toml:"timezone"`
				ScaleFactor float64  `toml:"scale_factor"`
			} `toml:"policy"`
		} `toml:"autoscaler"`
		Machine *struct {
			IdleCount      int      `toml:"IdleCount"`
			IdleTime       int      `toml:"IdleTime"`
			MaxBuilds      int      `toml:"MaxBuilds"`
			MachineDriver  string   `toml:"MachineDriver"`
			MachineName    string   `toml:"MachineName"`
			MachineOptions []string `toml:"MachineOptions"`
		} `toml:"machine"`
	} `toml:"runners"`
}

// fillTimes puts datetimes where the boot script puts them.
func fillTimes(data []byte) []byte {
	data = obtainedPlaceholders.ReplaceAll(data, []byte("2026-11-27T10:00:00Z"))
	return expiresPlaceholders.ReplaceAll(data, []byte("2027-02-25T10:00:00.000Z"))
}

// Every fleet's time placeholders, the default fleet's and the others'.
var (
	obtainedPlaceholders = regexp.MustCompile(`@TOKEN_OBTAINED_AT(:[a-z0-9-]+)?@`)
	expiresPlaceholders  = regexp.MustCompile(`@TOKEN_EXPIRES_AT(:[a-z0-9-]+)?@`)
)

func decodeStrict(t *testing.T, data []byte) documentedConfig {
	t.Helper()
	data = fillTimes(data)
	var c documentedConfig
	if err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(&c); err != nil {
		t.Fatalf("config.toml has keys gitlab-runner does not document: %v\n%s", err, data)
	}
	return c
}

func TestConfigTOMLAutoscaler(t *testing.T) {
	out, err := ConfigTOML(autoscalerRunner())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "config-docker-autoscaler.toml", out)
	c := decodeStrict(t, out)
	r := c.Runners[0]
	if c.Concurrent != 10 || r.Executor != "docker-autoscaler" || r.Token != TokenPlaceholder || r.Machine != nil {
		t.Fatalf("decoded %+v", c)
	}
	a := r.Autoscaler
	if a.Plugin != "aws" || a.MaxInstances != 10 || a.CapacityPerInstance != 1 || a.PluginConfig.Name != "ci-runners-runners" ||
		a.PluginConfig.Region != "ap-northeast-1" || a.ConnectorConfig.Username != "ec2-user" || a.ConnectorConfig.UseExternalAddr {
		t.Errorf("autoscaler section %+v", a)
	}
	// The machines boot with the stack's key pair: the connector logs in
	// with its private key, pushing none (use_static_credentials).
	if !a.ConnectorConfig.UseStaticCredentials || a.ConnectorConfig.KeyPath != StaticKeyPath {
		t.Errorf("connector does not use the static key: %+v", a.ConnectorConfig)
	}
	dynamic := autoscalerRunner()
	dynamic.StaticKey = false
	if c := decodeStrict(t, must(ConfigTOML(dynamic))); c.Runners[0].Autoscaler.ConnectorConfig.UseStaticCredentials || c.Runners[0].Autoscaler.ConnectorConfig.KeyPath != "" {
		t.Errorf("instance-connect keys: the connector must push keys, not read one: %+v", c.Runners[0].Autoscaler.ConnectorConfig)
	}
	if !r.FeatureFlags["FF_NETWORK_PER_BUILD"] {
		t.Errorf("jobs sharing a machine must not share a network: %+v", r.FeatureFlags)
	}
	if a.MaxUseCount != 1 || a.InstanceReadyCommand != InstanceReadyCommand || !strings.Contains(a.InstanceReadyCommand, "docker info") {
		t.Errorf("machines must be ready (Docker answers) and serve one job: %+v", a)
	}
	if r.TokenExpiresAt.IsZero() || r.TokenObtainedAt.IsZero() || !r.TokenExpiresAt.After(r.TokenObtainedAt) {
		t.Errorf("token times are not TOML datetimes gitlab-runner can renew from: %+v", r)
	}
	if len(a.Policy) != 1 || a.Policy[0].IdleCount != 0 || a.Policy[0].IdleTime != "5m0s" {
		t.Errorf("policy %+v", a.Policy)
	}
	if d, err := time.ParseDuration(a.Policy[0].IdleTime); err != nil || d != 5*time.Minute {
		t.Errorf("idle_time is not a Go duration: %v", err)
	}
}

// runners.schedule becomes policies after the default one, in order (the
// autoscaler uses the last one whose periods match), with the keys
// gitlab-runner documents.
func TestConfigTOMLSchedule(t *testing.T) {
	r := autoscalerRunner()
	r.Schedule = []Policy{{Periods: []string{"* 8-19 * * mon-fri"}, Timezone: "Asia/Tokyo", IdleCount: 2, IdleTime: 20 * time.Minute}}
	c := decodeStrict(t, must(ConfigTOML(r)))
	p := c.Runners[0].Autoscaler.Policy
	if len(p) != 2 || len(p[0].Periods) != 0 || p[0].IdleCount != 0 {
		t.Fatalf("the default policy must come first and apply always: %+v", p)
	}
	if fmt.Sprint(p[1].Periods) != "[* 8-19 * * mon-fri]" || p[1].Timezone != "Asia/Tokyo" || p[1].IdleCount != 2 || p[1].IdleTime != "20m0s" {
		t.Errorf("scheduled policy %+v", p[1])
	}
}

// manager.metrics_cidrs: the global listen_address, the private address
// filled in at boot, gitlab-runner's metrics port.
func TestConfigTOMLMetrics(t *testing.T) {
	r := autoscalerRunner()
	if c := decodeStrict(t, must(ConfigTOML(r))); c.ListenAddress != "" {
		t.Errorf("metrics are opt-in: listen_address %q", c.ListenAddress)
	}
	r.Metrics = true
	if c := decodeStrict(t, must(ConfigTOML(r))); c.ListenAddress != ListenPlaceholder+":9252" {
		t.Errorf("listen_address %q", c.ListenAddress)
	}
}

// cache.s3: [runners.cache] for S3 with the instance role, no keys, the
// bucket's region given; keys as gitlab-runner's cacheconfig names them.
func TestConfigTOMLCache(t *testing.T) {
	r := autoscalerRunner()
	if c := decodeStrict(t, must(ConfigTOML(r))); c.Runners[0].Cache != nil {
		t.Errorf("the cache is opt-in: %+v", c.Runners[0].Cache)
	}
	r.CacheBucket = "ci-runners-cache-0123456789ab"
	out := must(ConfigTOML(r))
	c := decodeStrict(t, out).Runners[0].Cache
	if c == nil || c.Type != "s3" || !c.Shared || c.S3.BucketName != r.CacheBucket || c.S3.BucketLocation != "ap-northeast-1" || c.S3.AuthenticationType != "iam" {
		t.Errorf("cache section %+v", c)
	}
	if strings.Contains(string(out), "AccessKey") || strings.Contains(string(out), "SecretKey") {
		t.Errorf("the cache must use the instance role, not keys:\n%s", out)
	}
}

func TestConfigTOMLDockerMachine(t *testing.T) {
	out, err := ConfigTOML(machineRunner())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "config-docker-machine.toml", out)
	c := decodeStrict(t, out)
	m := c.Runners[0].Machine
	if m == nil || m.IdleTime != 300 || m.MaxBuilds != 1 || m.MachineDriver != "amazonec2" || !strings.Contains(m.MachineName, "%s") || c.Runners[0].Limit != 10 {
		t.Fatalf("machine section %+v", m)
	}
	opts := strings.Join(m.MachineOptions, "\n")
	for _, want := range []string{"amazonec2-zone=a", "amazonec2-security-group=ci-runners-runner", "amazonec2-security-group-readonly=true",
		"amazonec2-private-address-only=true", "amazonec2-metadata-token=required", "amazonec2-iam-instance-profile=ci-runners-ap-northeast-1-runner",
		"amazonec2-vpc-id=vpc-0123456789abcdef0", "amazonec2-subnet-id=subnet-0123456789abcdef0", "amazonec2-request-spot-instance=true",
		"amazonec2-volume-type=gp3", "amazonec2-ssh-user=ubuntu"} {
		if !strings.Contains(opts, want) {
			t.Errorf("MachineOptions lack %q:\n%s", want, opts)
		}
	}
}

func TestConfigTOMLPrivilegedAndImage(t *testing.T) {
	r := autoscalerRunner()
	r.Privileged, r.Image, r.IdleCount, r.IdleTime = true, "docker:27", 2, 90*time.Second
	c := decodeStrict(t, must(ConfigTOML(r)))
	if !c.Runners[0].Docker.Privileged || c.Runners[0].Docker.Image != "docker:27" || c.Runners[0].Autoscaler.Policy[0].IdleCount != 2 || c.Runners[0].Autoscaler.Policy[0].IdleTime != "1m30s" {
		t.Errorf("decoded %+v", c.Runners[0])
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func managers() map[string]Manager {
	return map[string]Manager{
		"manager-docker-autoscaler.yaml": {Runner: autoscalerRunner(), Fleeting: true, TokenParameter: "/provision/ci-runners/runner-token", BootParameter: "/provision/ci-runners/manager-boot", SSHKeyParameter: "/provision/ci-runners/runner-ssh-key",
			DrainParameter: "/provision/ci-runners/drain", ConfigParameter: "/provision/ci-runners/runner-config", LogGroup: "/provision/ci-runners/manager", Group: "ci-runners-runners"},
		"manager-docker-machine.yaml": {Runner: machineRunner(), DockerMachine: true, RunnerVersion: "18.5.0", TokenParameter: "/provision/ci-runners/runner-token", BootParameter: "/provision/ci-runners/manager-boot",
			ConfigParameter: "/provision/ci-runners/runner-config", LogGroup: "/provision/ci-runners/manager"},
	}
}

func TestManagerUserData(t *testing.T) {
	for name, m := range managers() {
		t.Run(name, func(t *testing.T) {
			out, err := ManagerUserData(m)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, out)
			if !bytes.HasPrefix(out, []byte("#cloud-config\n")) {
				t.Errorf("user-data does not start with #cloud-config")
			}
			var cc cloudConfig
			if err := yaml.Unmarshal(out, &cc); err != nil {
				t.Fatalf("user-data is not YAML: %v", err)
			}
			// The runner configuration is not part of the user-data: it
			// is read from its parameter, so tuning is no new bootstrap.
			for _, f := range cc.WriteFiles {
				if strings.Contains(f.Path, "config.toml") || strings.Contains(f.Content, "[runners.docker]") {
					t.Errorf("the user-data holds the runner configuration in %s", f.Path)
				}
			}
			if !strings.Contains(string(out), "config_parameter="+m.ConfigParameter+"\n") {
				t.Errorf("the values do not name the configuration parameter")
			}
			decodeStrict(t, must(ConfigTOML(m.Runner)))
			text := string(out)
			if !strings.Contains(text, "--with-decryption") || !strings.Contains(text, "token_parameter="+m.TokenParameter+"\n") {
				t.Errorf("user-data does not read the token from SSM")
			}
			wantPlugin := map[string]string{DockerAutoscaler: "fleeting", DockerMachine: "docker-machine-Linux-${arch}"}[m.Executor]
			if !strings.Contains(text, wantPlugin) {
				t.Errorf("user-data does not install %s", wantPlugin)
			}
			if m.RunnerVersion != "" && !strings.Contains(text, "runner_version="+m.RunnerVersion+"\n") {
				t.Errorf("gitlab-runner is not pinned to %s", m.RunnerVersion)
			}
		})
	}
}

// machineImages are the images the machines may boot, with their
// user-data's golden files.
var machineImages = map[string]MachineImage{
	"machine.yaml":                   {ECSOptimized: true},
	"machine-amazon-linux.yaml":      {AmazonLinux: true, InstanceConnect: true},
	"machine-ecs-instance-conn.yaml": {ECSOptimized: true, InstanceConnect: true},
	"machine-custom-ami.yaml":        {InstanceConnect: true},
}

// A machine installs only what its image lacks: nothing at all on the
// ECS-optimized image with static keys (the default), Docker on Amazon
// Linux (which has the EC2 Instance Connect agent), the agent on the ECS
// image when keys are pushed, both on an image of runners.ami.
func TestMachineUserData(t *testing.T) {
	wantPackages := map[string][]string{
		"machine.yaml":                   nil,
		"machine-amazon-linux.yaml":      {"docker"},
		"machine-ecs-instance-conn.yaml": {"ec2-instance-connect"},
		"machine-custom-ami.yaml":        {"docker", "ec2-instance-connect"},
	}
	for name, img := range machineImages {
		t.Run(name, func(t *testing.T) {
			out := must(MachineUserData("ci-runners", img))
			golden(t, name, out)
			var cc cloudConfig
			if err := yaml.Unmarshal(out, &cc); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(cc.Packages) != fmt.Sprint(wantPackages[name]) {
				t.Errorf("packages %v, want %v", cc.Packages, wantPackages[name])
			}
			if !strings.Contains(string(out), "usermod") || !strings.Contains(string(out), "enable, --now, docker") && !strings.Contains(string(out), "- docker") {
				t.Errorf("machine user-data does not set up Docker for ec2-user:\n%s", out)
			}
			if img.ECSOptimized != strings.Contains(string(out), "ecs") {
				t.Errorf("ECS's agent must be stopped on the ECS-optimized image, and only there:\n%s", out)
			}
		})
	}
}

// Every user-data document passes cloud-init's own schema check.
func TestUserDataPassesCloudInitSchema(t *testing.T) {
	bin, err := exec.LookPath("cloud-init")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("PROVISION_REQUIRE_CLOUD_INIT") != "" {
			t.Fatal("cloud-init is not installed (apt-get install -y cloud-init)")
		}
		t.Skip("cloud-init is not installed (apt-get install -y cloud-init)")
	}
	docs := map[string][]byte{}
	for name, img := range machineImages {
		docs[name] = must(MachineUserData("ci-runners", img))
	}
	for name, m := range managers() {
		docs[name] = must(ManagerUserData(m))
	}
	for name, doc := range docs {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "schema", "--config-file", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid cloud-config") {
			t.Errorf("%s fails `cloud-init schema`: %v\n%s", name, err, out)
		}
	}
}

// Machine and key pair names as gitlab-runner and docker-machine make
// them: the stack's own match, another stack's never do, even when its
// name starts with this stack's machine prefix.
func TestMachineNamesMatchExactly(t *testing.T) {
	machine, key := MachineNameRegexp("ci"), KeyPairRegexp("ci")
	ours := "runner-abcd12345-ci-machine-1732700000-deadbeef"
	if !machine.MatchString(ours) || !key.MatchString(ours+"-Xy3kQ") || !key.MatchString(ours) {
		t.Errorf("the stack's own machine or key pair does not match")
	}
	for _, other := range []string{
		"runner-abcd12345-ci-machine-arm-machine-1732700000-deadbeef", // stack ci-machine-arm
		"runner-abcd12345-x-ci-machine-1732700000-deadbeef",           // stack x-ci
		"ci-machine-runner-abc",                                       // not a docker-machine name
		"runner-abcd12345-ci-manager-1732700000-deadbeef",
	} {
		if machine.MatchString(other) || key.MatchString(other+"-Xy3kQ") {
			t.Errorf("%s matches stack ci", other)
		}
	}
	// The IAM pattern: ? is one character, * none here.
	iam := MachineNameIAMPattern("ci")
	re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(iam), `\?`, ".") + "$")
	if !re.MatchString(ours) || re.MatchString("runner-abcd12345-ci-machine-arm-machine-1732700000-deadbeef") {
		t.Errorf("IAM pattern %s", iam)
	}
}

// TestManagerUserDataFitsEC2 holds the packed manager user-data under
// EC2's 16 KB with the longest values the configuration allows, and
// checks it unpacks to the document itself.
func TestManagerUserDataFitsEC2(t *testing.T) {
	for name, m := range managers() {
		m.Stack, m.LogGroup = strings.Repeat("s", 32), "/provision/"+strings.Repeat("s", 32)+"/manager"
		m.GitLabURL = "https://" + strings.Repeat("g", 200) + ".example.com/gitlab"
		doc := must(ManagerUserData(m))
		packed, err := Pack(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %d bytes, %d packed", name, len(doc), len(packed))
		if len(packed) > UserDataLimit*3/4 {
			t.Errorf("%s: packed user-data is %d bytes: three quarters of EC2's limit are gone", name, len(packed))
		}
		if again := must(Pack(doc)); !bytes.Equal(again, packed) {
			t.Errorf("%s: packing twice gave other bytes: an unchanged manager would look changed", name)
		}
		if got := must(Unpack(packed)); !bytes.Equal(got, doc) {
			t.Errorf("%s: unpacked user-data differs from the document", name)
		}
		if got := must(Unpack(doc)); !bytes.Equal(got, doc) {
			t.Errorf("%s: a plain document is not read as it is", name)
		}
	}
}
