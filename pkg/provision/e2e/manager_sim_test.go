package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// managerSim stands in for the manager's boot, which the emulator cannot
// run: while provision runs, it watches for the stack's manager instances
// and, for each new one, does what the bootstrap does that can be seen from
// outside: it reads the runner token from its parameter, verifies it with
// GitLab sending a system_id as `gitlab-runner verify` does (so GitLab
// shows the runner online), and writes each boot stage into the boot
// parameter, with the manager's JSON.
type managerSim struct {
	// boot gives the reports a new manager writes; nil: every stage ok.
	boot func(stackName string) []stack.BootReport
	// gap is the pause between two reports.
	gap time.Duration
	// noDrain: a manager asked to drain never answers (its jobs outlast
	// manager.drain_timeout).
	noDrain bool

	awsCfg aws.Config     // the emulator's
	proxy  *awstest.Proxy // what the tool's calls went through

	mu   sync.Mutex
	seen map[string]bool // manager instances already booted
	// applied is the runner configuration version each online manager
	// runs; drained managers apply nothing.
	applied map[string]string
	drained map[string]bool
}

// okBoot is a boot that passes every stage.
func okBoot(string) []stack.BootReport {
	var out []stack.BootReport
	for _, s := range bootstrap.Stages {
		out = append(out, stack.BootReport{Stage: s, Status: "ok"})
	}
	return out
}

// noBoot writes nothing: a manager without instance profile or network.
func noBoot(string) []stack.BootReport { return nil }

// watch boots every new manager until stop is closed.
func (m *managerSim) watch(h *harness, stop <-chan struct{}) {
	cfg := awsConfig(h.moto.URL)
	m.awsCfg, m.proxy = cfg, h.proxy
	ec2c, ssmc := ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		out, err := ec2c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + stack.TagStep), Values: []string{"instance/manager"}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
		}})
		if err != nil {
			continue
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				m.mu.Lock()
				fresh := !m.seen[id]
				m.seen[id] = true
				m.mu.Unlock()
				if fresh {
					go m.bootOne(h, ssmc, id, stackOf(i.Tags), stop)
				}
				m.answerDrain(ssmc, id, stackOf(i.Tags))
				m.applyConfig(ssmc, id, stackOf(i.Tags))
			}
		}
	}
}

// answerDrain does what provision-drain does on a manager: when the drain
// parameter names it, it stops gitlab-runner (its jobs done) and answers.
func (m *managerSim) answerDrain(ssmc *ssm.Client, id, stackName string) {
	name := stack.DrainParameterName(stackName)
	p, err := ssmc.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil || aws.ToString(p.Parameter.Value) != id || m.noDrain {
		return
	}
	m.mu.Lock()
	if m.drained == nil {
		m.drained = map[string]bool{}
	}
	m.drained[id] = true
	m.mu.Unlock()
	_, _ = ssmc.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("drained " + id), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	// Then it powers off: an instance set to terminate on shutdown goes
	// (the emulator forgets the setting; the proxy remembers it).
	if m.proxy != nil && m.proxy.TerminatesOnShutdown(id) {
		_, _ = ec2.NewFromConfig(m.awsCfg).TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	}
}

// configVersion is the runner configuration's version now ("": none).
func configVersion(ssmc *ssm.Client, stackName string) string {
	p, err := ssmc.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/" + stackName + "/runner-config")})
	if err != nil {
		return ""
	}
	return strconv.FormatInt(p.Parameter.Version, 10)
}

// applyConfig does what provision-config-apply does on a manager that is
// online and not draining: a new version of the runner configuration is
// applied and reported.
func (m *managerSim) applyConfig(ssmc *ssm.Client, id, stackName string) {
	m.mu.Lock()
	last, online := m.applied[id]
	drained := m.drained[id]
	m.mu.Unlock()
	if !online || drained {
		return
	}
	v := configVersion(ssmc, stackName)
	if v == "" || v == last {
		return
	}
	r := stack.BootReport{Stage: bootstrap.StageOnline, Status: "ok", Detail: "runner configuration version " + v + " applied", Config: v, Time: time.Now().UTC().Truncate(time.Second)}
	doc, _ := json.Marshal(r)
	_, _ = ssmc.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(stack.BootParameterName(stackName)), Value: aws.String(string(doc)),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	m.mu.Lock()
	m.applied[id] = v
	m.mu.Unlock()
}

func stackOf(tags []ec2types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == stack.TagStack {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func (m *managerSim) bootOne(h *harness, ssmc *ssm.Client, id, stackName string, stop <-chan struct{}) {
	ctx := context.Background()
	boot := m.boot
	if boot == nil {
		boot = okBoot
	}
	for _, r := range boot(stackName) {
		select {
		case <-stop:
			// The run ended mid-boot: the next run's watch boots it again.
			m.mu.Lock()
			delete(m.seen, id)
			m.mu.Unlock()
			return
		case <-time.After(m.gap):
		}
		if r.Stage == bootstrap.StageOnline && r.Status == "ok" {
			m.verifyWithSystemID(h, ssmc, stackName)
		}
		// From config-written on, the boot reports the configuration it wrote.
		if slices.Index(bootstrap.Stages, r.Stage) >= slices.Index(bootstrap.Stages, bootstrap.StageConfigWritten) {
			r.Config = configVersion(ssmc, stackName)
		}
		if r.Stage == bootstrap.StageOnline && r.Status == "ok" {
			m.mu.Lock()
			if m.applied == nil {
				m.applied = map[string]string{}
			}
			m.applied[id] = r.Config
			m.mu.Unlock()
		}
		r.Time = time.Now().UTC().Truncate(time.Second)
		doc, _ := json.Marshal(r)
		_, _ = ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(stack.BootParameterName(stackName)), Value: aws.String(string(doc)),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
		// What provision-logs ships of the boot: the boot script's lines
		// in cloud-final's journal, and gitlab-runner's once it runs.
		lines := []string{fmt.Sprintf("provision: boot stage %s %s", r.Stage, r.Status)}
		if r.Detail != "" {
			lines = append(strings.Split(r.Detail, "\n"), lines...)
		}
		m.ship(stackName, "boot", id, lines...)
		if r.Stage == bootstrap.StageServiceRunning && r.Status == "ok" {
			m.ship(stackName, "gitlab-runner", id, "Starting multi-runner from /etc/gitlab-runner/config.toml...  builds=0 max_builds=10",
				"Configuration loaded  builds=0 max_builds=10", "Runner token=glrt-[redacted] is verified")
		}
	}
}

// ship puts lines into the stack's log group as provision-logs does, in
// the stream UNIT/INSTANCE (made on first use); without the group, as on
// a manager whose group was not made, nothing arrives.
func (m *managerSim) ship(stackName, unit, id string, lines ...string) {
	c := cloudwatchlogs.NewFromConfig(m.awsCfg)
	group, stream := "/provision/"+stackName+"/manager", unit+"/"+id
	_, _ = c.CreateLogStream(context.Background(), &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream})
	now := time.Now().UnixMilli()
	events := make([]logstypes.InputLogEvent, len(lines))
	for i, l := range lines {
		events[i] = logstypes.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(now)}
	}
	_, _ = c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: events})
}

// verifyWithSystemID is what `gitlab-runner verify` sends on the manager.
func (m *managerSim) verifyWithSystemID(h *harness, ssmc *ssm.Client, stackName string) {
	p, err := ssmc.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/" + stackName + "/runner-token"), WithDecryption: aws.Bool(true)})
	if err != nil {
		return
	}
	body, _ := json.Marshal(map[string]string{"token": aws.ToString(p.Parameter.Value), "system_id": "s_0123456789ab"})
	resp, err := http.Post(h.gitlab.URL+"/api/v4/runners/verify", "application/json", bytes.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
}
