package state

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Ledger is the live, concurrency-safe view of a document during a run.
// Every change is saved at once when the ledger has a store; a plan-only
// run uses a ledger without one, so nothing reaches the disk.
type Ledger struct {
	mu    sync.Mutex
	doc   *Document
	store Backend // nil: in memory only
}

// NewLedger wraps a document; store may be nil.
func NewLedger(doc *Document, store Backend) *Ledger {
	return &Ledger{doc: doc, store: store}
}

// Get returns a copy of a step's resource, or nil.
func (l *Ledger) Get(step string) *Resource {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.doc.Resources[step].Clone()
}

// Steps returns the steps the document records, sorted.
func (l *Ledger) Steps() []string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.doc.Resources))
}

// Put records a step's resource and saves.
func (l *Ledger) Put(step string, r *Resource) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.doc.Resources[step]; cur != nil && equal(cur, r) {
		return nil
	}
	l.doc.Resources[step] = r.Clone()
	return l.saveLocked()
}

// Remove forgets a step's resource and saves.
func (l *Ledger) Remove(step string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.doc.Resources[step]; !ok {
		return nil
	}
	delete(l.doc.Resources, step)
	return l.saveLocked()
}

// Fact returns a fact the document holds ("": none).
func (l *Ledger) Fact(key string) string {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.doc.Facts[key]
}

// LearnFact keeps a fact; it is saved with the next change of a resource
// (a run that changes nothing writes nothing).
func (l *Ledger) LearnFact(key, value string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.doc.Facts == nil {
		l.doc.Facts = map[string]string{}
	}
	l.doc.Facts[key] = value
}

// Facts returns a copy of the facts.
func (l *Ledger) Facts() map[string]string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.doc.Facts)
}

// Lineage is the document's lineage.
func (l *Ledger) Lineage() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.doc.Lineage
}

// Snapshot returns a deep copy of the document.
func (l *Ledger) Snapshot() *Document {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.doc.Clone()
}

func (l *Ledger) saveLocked() error {
	if l.store == nil || isNilStore(l.store) {
		return nil
	}
	l.doc.Serial++
	l.doc.UpdatedAt = time.Now().UTC()
	return l.store.Save(l.doc)
}

func equal(a, b *Resource) bool {
	if a.Type != b.Type || a.ID != b.ID || a.Status != b.Status || a.ClientToken != b.ClientToken || len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for k, v := range a.Attributes {
		if bv, ok := b.Attributes[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// isNilStore: a nil *Store in the interface is still "no store".
func isNilStore(b Backend) bool {
	s, ok := b.(*Store)
	return ok && s == nil
}
