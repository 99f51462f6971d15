package state

// Backend is where a stack's state lives: a local file (Store) or an S3
// object (package s3state). Every backend gives the same guarantees: a
// whole document per write, a lock that a second run cannot take, and
// Load of nothing as (nil, nil).
type Backend interface {
	// Location names the state for people and for the stack's record of
	// where its state lives (a path, or s3://bucket/key).
	Location() string
	// Lock takes the stack's lock without waiting; a held lock is a
	// *LockedError naming its holder.
	Lock(command string) error
	Unlock() error
	Load() (*Document, error)
	// Save writes the whole document; the caller bumps Serial.
	Save(d *Document) error
	// Remove deletes the state: called only when nothing is left.
	Remove() error
}

// Location is the state file's path.
func (s *Store) Location() string { return s.path }
