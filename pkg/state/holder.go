package state

import "os"

// ProcessGone reports whether the holder ran on this host and its process
// no longer exists: then the lock it left can only be stale. A holder on
// another host, or a process that still runs (or whose id was reused),
// gives false, so a live run is never called gone.
func (h *LockHolder) ProcessGone() bool {
	if h == nil || h.PID <= 0 || h.Host == "" {
		return false
	}
	if host, err := os.Hostname(); err != nil || host != h.Host {
		return false
	}
	return processGone(h.PID)
}
