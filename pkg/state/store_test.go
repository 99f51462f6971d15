package state

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadRoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".provision")
	s := NewStore(filepath.Join(dir, "ci.json"))
	if d, err := s.Load(); d != nil || err != nil {
		t.Fatalf("missing file: %v %v", d, err)
	}
	doc := New("ci", "eu-west-1")
	l := NewLedger(doc, s)
	if err := l.Put("vpc", &Resource{Type: "vpc", ID: "vpc-1", Status: StatusCreated, Attributes: map[string]string{"cidr": "10.0.0.0/24"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Put("igw", &Resource{Type: "internet-gateway", ID: "igw-1", Status: StatusCreated}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 || got.Lineage != doc.Lineage || got.Resources["vpc"].Attr("cidr") != "10.0.0.0/24" || got.FormatVersion != FormatVersion {
		t.Fatalf("loaded %+v", got)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600, s.BackupPath(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// The backup is the previous version.
	prev, err := (&Store{path: s.BackupPath()}).Load()
	if err != nil || prev.Serial != 1 || prev.Resources["igw"] != nil {
		t.Fatalf("backup = %+v, %v", prev, err)
	}
	// An unchanged Put does not write.
	if err := l.Put("igw", &Resource{Type: "internet-gateway", ID: "igw-1", Status: StatusCreated}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Load(); again.Serial != 2 {
		t.Errorf("unchanged put bumped serial to %d", again.Serial)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("state survives Remove")
	}
}

func TestCorruptStatePointsToBackup(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "ci.json"))
	if err := os.WriteFile(s.Path(), []byte(`{"format_version": 1, "lineage": `), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load()
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), s.BackupPath()) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	if err := os.WriteFile(s.Path(), []byte(`{"format_version": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.As(err, &ce) {
		t.Fatalf("document without lineage accepted: %v", err)
	}
	if err := os.WriteFile(s.Path(), []byte(`{"format_version": 99, "lineage": "x", "stack": "ci"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "upgrade provision") {
		t.Fatalf("newer format accepted: %v", err)
	}
}

// The helper process holds the lock until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv("PROVISION_LOCK_HELPER")
	if path == "" {
		t.Skip("helper for TestLockHeldByAnotherProcess")
	}
	s := NewStore(path)
	if err := s.Lock("up"); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ci.json")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "PROVISION_LOCK_HELPER="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper did not lock: %q %v", buf, err)
	}

	start := time.Now()
	err := NewStore(path).Lock("down")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != cmd.Process.Pid || le.Holder.Command != "up" {
		t.Fatalf("second lock: %v (holder %+v)", err, le)
	}
	if time.Since(start) > time.Second {
		t.Errorf("second lock waited instead of failing at once")
	}
	host, _ := os.Hostname()
	if !strings.Contains(err.Error(), "pid") || !strings.Contains(err.Error(), host) {
		t.Errorf("message does not name the holder: %v", err)
	}

	// A killed holder does not block the next run.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	stdin.Close()
	s := NewStore(path)
	if err := s.Lock("up"); err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	if err := s.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerConcurrentPuts(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "ci.json"))
	l := NewLedger(New("ci", "eu-west-1"), s)
	done := make(chan error)
	for i := 0; i < 16; i++ {
		go func(i int) {
			done <- l.Put(string(rune('a'+i)), &Resource{Type: "x", ID: "id", Status: StatusCreated})
		}(i)
	}
	for i := 0; i < 16; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Load()
	if err != nil || len(got.Resources) != 16 || got.Serial != 16 {
		t.Fatalf("after 16 concurrent puts: %d resources, serial %d, %v", len(got.Resources), got.Serial, err)
	}
}

// A holder is gone only when it ran on this host and its process has
// exited; the shared lock's message then says force-unlock is safe.
func TestLockHolderProcessGone(t *testing.T) {
	host, _ := os.Hostname()
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		holder *LockHolder
		gone   bool
	}{
		{"exited here", &LockHolder{ID: "id-1", PID: exited.Process.Pid, Host: host}, true},
		{"running here", &LockHolder{ID: "id-2", PID: os.Getpid(), Host: host}, false},
		{"exited elsewhere", &LockHolder{ID: "id-3", PID: exited.Process.Pid, Host: host + "-other"}, false},
		{"no pid", &LockHolder{ID: "id-4", Host: host}, false},
		{"no holder", nil, false},
	} {
		e := NewLockedError("s3://b/k", c.holder, true)
		said := strings.Contains(e.Error(), "process is gone") && strings.Contains(e.Error(), "is safe")
		if e.HolderGone != c.gone || said != c.gone {
			t.Errorf("%s: gone %v, message %q", c.name, e.HolderGone, e.Error())
		}
	}
}
