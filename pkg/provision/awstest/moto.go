// Package awstest runs the AWS emulator (moto_server) for end-to-end tests
// and puts a proxy in front of it that counts calls and can inject faults.
package awstest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Moto is a running moto_server.
type Moto struct {
	URL string
	cmd *exec.Cmd
}

var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// StartMoto starts moto_server on a free port and waits until it answers.
// MOTO_SERVER may name the executable.
func StartMoto() (*Moto, error) {
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		bin = "moto_server"
	}
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("moto_server not found (install it with `pip install \"moto[server]\"`): %w", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := runningOn.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	m := &Moto{cmd: cmd}
	select {
	case m.URL = <-found:
	case <-time.After(60 * time.Second):
		m.Stop()
		return nil, fmt.Errorf("moto_server did not report its address within 60s")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("moto_server at %s does not answer: %w", m.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Reset empties every emulated service.
func (m *Moto) Reset(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+"/moto-api/reset", strings.NewReader(""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the server and its children.
func (m *Moto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}
