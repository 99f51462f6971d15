package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store is the state file of one stack on disk: path, path.backup (the
// previous version) and path.lock.
type Store struct {
	path string
	lock *os.File // open and flock'ed while this run holds the lock
}

// NewStore returns a store for the given file. Nothing is touched until
// Lock, Load or Save.
func NewStore(path string) *Store { return &Store{path: path} }

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// BackupPath is where the previous version is kept.
func (s *Store) BackupPath() string { return s.path + ".backup" }

func (s *Store) lockPath() string { return s.path + ".lock" }

// LockHolder describes the process that holds a stack's lock.
type LockHolder struct {
	ID      string    `json:"id,omitempty"` // for force-unlock (shared backends)
	Who     string    `json:"who,omitempty"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// LockedError says another run holds the lock.
type LockedError struct {
	Path   string
	Holder *LockHolder
	// Shared: a lock on a shared backend outlives a killed holder, and only
	// force-unlock releases it.
	Shared bool
	// HolderGone: the holder ran on this host and its process has exited,
	// so the lock is stale and force-unlock cannot hurt a running run.
	HolderGone bool
}

// NewLockedError names the holder of a lock this run could not take, and
// whether that holder is gone.
func NewLockedError(path string, holder *LockHolder, shared bool) *LockedError {
	return &LockedError{Path: path, Holder: holder, Shared: shared, HolderGone: holder.ProcessGone()}
}

func (e *LockedError) Error() string {
	who := "another process"
	if h := e.Holder; h != nil {
		who = fmt.Sprintf("pid %d on %s (%q, since %s)", h.PID, h.Host, h.Command, h.Since.Format(time.RFC3339))
		if h.Who != "" {
			who = h.Who + ", " + who
		}
	}
	if e.Shared {
		id := ""
		if e.Holder != nil {
			id = e.Holder.ID
		}
		if e.HolderGone {
			return fmt.Sprintf("state %s is locked by %s, and that process is gone (no pid %d on this host): it died holding the lock; `provision force-unlock %s` is safe", e.Path, who, e.Holder.PID, id)
		}
		return fmt.Sprintf("state %s is locked by %s: wait for that run to finish; if it died, release the lock with `provision force-unlock %s`", e.Path, who, id)
	}
	return fmt.Sprintf("state %s is locked by %s: wait for that run to finish; the lock is released as soon as that process exits", e.Path, who)
}

// errLocked: another process holds the lock.
var errLocked = errors.New("locked by another process")

// Lock takes the stack's exclusive lock without waiting. The system drops
// the lock when its process dies, so a killed run never blocks the next one.
func (s *Store) Lock(command string) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open state lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return NewLockedError(s.path, readHolder(s.lockPath()), false)
		}
		return fmt.Errorf("lock state %s: %w", s.path, err)
	}
	host, _ := os.Hostname()
	holder, _ := json.Marshal(LockHolder{PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()})
	// The holder is informational, for the message a second run prints.
	_ = f.Truncate(0)
	_, _ = f.WriteAt(holder, 0)
	s.lock = f
	return nil
}

// Unlock releases the lock.
func (s *Store) Unlock() error {
	if s.lock == nil {
		return nil
	}
	_ = s.lock.Truncate(0)
	err := s.lock.Close() // closing the descriptor releases the flock
	s.lock = nil
	return err
}

func readHolder(path string) *LockHolder {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil
	}
	var h LockHolder
	if json.Unmarshal(data, &h) != nil {
		return nil
	}
	return &h
}

// CorruptError says the state file cannot be read.
type CorruptError struct {
	Path, Backup string
	Err          error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is damaged (%v): nothing was changed. Inspect it, or restore the previous version with `cp %s %s`, or move it away and run `provision down --discover` / `provision up` to work from the ownership tags", e.Path, e.Err, e.Backup, e.Path)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Load reads the document; a missing file gives (nil, nil).
func (s *Store) Load() (*Document, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return Decode(s.path, s.BackupPath(), data)
}

// Decode reads a state document strictly; location and backup name it in
// errors.
func Decode(location, backup string, data []byte) (*Document, error) {
	var d Document
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &CorruptError{Path: location, Backup: backup, Err: err}
	}
	switch {
	case d.FormatVersion > FormatVersion:
		return nil, fmt.Errorf("state %s has format version %d, newer than this provision understands (%d): upgrade provision", location, d.FormatVersion, FormatVersion)
	case d.FormatVersion < 1 || d.Lineage == "" || d.Stack == "":
		return nil, &CorruptError{Path: location, Backup: backup, Err: errors.New("format_version, lineage or stack is missing")}
	}
	if d.Resources == nil {
		d.Resources = map[string]*Resource{}
	}
	return &d, nil
}

// Save writes the document atomically (temp file, fsync, rename) with mode
// 0600, keeping the previous version as the backup. The caller bumps Serial.
func (s *Store) Save(d *Document) error {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	if prev, err := os.ReadFile(s.path); err == nil {
		if err := writeAtomic(s.BackupPath(), prev); err != nil {
			return fmt.Errorf("keep state backup: %w", err)
		}
	}
	if err := writeAtomic(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Remove deletes the state file and its backup: called only when nothing of
// the stack is left.
func (s *Store) Remove() error {
	for _, p := range []string{s.path, s.BackupPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove state: %w", err)
		}
	}
	// The lock file goes too; whoever holds it still holds the open file.
	_ = os.Remove(s.lockPath())
	return nil
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
