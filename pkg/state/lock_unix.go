//go:build !windows

package state

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f without waiting (errLocked: another
// process holds it). The kernel drops a flock when its process dies.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// processGone: no process of that id exists here. Signal 0 checks that a
// process exists without touching it; EPERM means it exists under another
// user.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
