package command

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/provision-dev/provision/pkg/state"
	"github.com/provision-dev/provision/pkg/state/s3state"
)

// StatePull prints the state document.
func StatePull(ctx context.Context, o Options) (int, error) {
	s, err := openSession(ctx, o, false, "state pull")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil {
		return 1, fmt.Errorf("there is no state at %s", s.store.Location())
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	return 0, enc.Encode(s.doc)
}

// StatePush replaces the state with a document from a file: the same
// lineage at a newer serial, or any document where there is no state yet.
func StatePush(ctx context.Context, o Options, file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 1, fmt.Errorf("read %s: %w", file, err)
	}
	doc, err := state.Decode(file, file, data)
	if err != nil {
		return 1, err
	}
	s, err := openSession(ctx, o, true, "state push")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if doc.Stack != s.cfg.Stack {
		return 1, fmt.Errorf("%s is the state of stack %q, not %q", file, doc.Stack, s.cfg.Stack)
	}
	if cur := s.doc; cur != nil {
		if cur.Lineage != doc.Lineage {
			return 1, fmt.Errorf("%s has lineage %s but the state at %s has %s: they are different states; refusing to replace it", file, doc.Lineage, s.store.Location(), cur.Lineage)
		}
		if doc.Serial <= cur.Serial {
			return 1, fmt.Errorf("%s is at serial %d, not newer than the state at %s (%d): refusing to go back", file, doc.Serial, s.store.Location(), cur.Serial)
		}
	}
	if err := s.store.Save(doc); err != nil {
		return 1, err
	}
	fmt.Fprintf(o.Stdout, "Pushed %s to %s (serial %d).\n", file, s.store.Location(), doc.Serial)
	return 0, nil
}

// StateList prints one line per recorded resource.
func StateList(ctx context.Context, o Options) (int, error) {
	s, err := openSession(ctx, o, false, "state list")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil {
		return 0, nil
	}
	steps := make([]string, 0, len(s.doc.Resources))
	for k := range s.doc.Resources {
		steps = append(steps, k)
	}
	sort.Strings(steps)
	w := tabwriter.NewWriter(o.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "STEP\tTYPE\tID\tSTATUS")
	for _, k := range steps {
		r := s.doc.Resources[k]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k, r.Type, r.ID, r.Status)
	}
	return 0, w.Flush()
}

// StateShow prints what the state records of one step.
func StateShow(ctx context.Context, o Options, step string) (int, error) {
	s, err := openSession(ctx, o, false, "state show")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil || s.doc.Resources[step] == nil {
		return 1, fmt.Errorf("the state at %s records nothing for %q: `provision state list` shows what it records", s.store.Location(), step)
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	return 0, enc.Encode(s.doc.Resources[step])
}

// StateMigrate moves the state to another location (a file or
// s3://BUCKET/KEY), with both locked, and records the new location.
func StateMigrate(ctx context.Context, o Options, to string) (int, error) {
	s, err := openSession(ctx, o, true, "state migrate")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil {
		return 1, fmt.Errorf("there is no state at %s to migrate", s.store.Location())
	}
	if _, err := s.checkStateRecord(ctx, false); err != nil {
		return 1, err
	}
	dest, err := backendAt(ctx, o, s.cfg, to)
	if err != nil {
		return 1, err
	}
	if dest.Location() == s.store.Location() {
		return 1, fmt.Errorf("the state is already at %s", to)
	}
	if err := dest.Lock("state migrate"); err != nil {
		return 1, err
	}
	defer func() { _ = dest.Unlock() }()
	if existing, err := dest.Load(); err != nil {
		return 1, err
	} else if existing != nil {
		return 1, fmt.Errorf("%s already holds a state (lineage %s, serial %d): move it away first", to, existing.Lineage, existing.Serial)
	}
	doc := s.doc.Clone()
	doc.Serial++
	if err := dest.Save(doc); err != nil {
		return 1, err
	}
	prev := s.store
	s.store = dest
	if err := s.recordState(ctx, doc.Lineage); err != nil {
		return 1, err
	}
	if err := prev.Remove(); err != nil {
		return 1, fmt.Errorf("the state is now at %s, but the old one could not be removed: %w", to, err)
	}
	_ = prev.Unlock()
	s.store = prev // the session unlocks what it locked
	fmt.Fprintf(o.Stdout, "Moved the state of stack %s from %s to %s (serial %d).\n", s.cfg.Stack, prev.Location(), dest.Location(), doc.Serial)
	return 0, nil
}

// ForceUnlock removes the lock of a shared state whose holder died.
func ForceUnlock(ctx context.Context, o Options, id string) (int, error) {
	s, err := openSession(ctx, o, false, "force-unlock")
	if err != nil {
		return 1, err
	}
	b, ok := s.store.(*s3state.Backend)
	if !ok {
		return 1, fmt.Errorf("the state at %s is a local file: its lock is released when the process holding it exits, so there is nothing to force", s.store.Location())
	}
	if err := b.ForceUnlock(id); err != nil {
		return 1, err
	}
	fmt.Fprintf(o.Stdout, "Released lock %s of %s.\n", id, s.store.Location())
	return 0, nil
}
