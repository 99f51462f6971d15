package resource

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/state"
)

// Records keeps in the state what each step found or made. Every change
// is written at once (the ledger saves it), so a run killed at any point
// leaves a state the next run continues from.
type Records struct {
	Ledger *state.Ledger
	// Stack is the stack's name, part of every client token.
	Stack string
}

func (r Records) put(step plan.ID, res *state.Resource) error {
	if err := r.Ledger.Put(string(step), res); err != nil {
		return fmt.Errorf("%s: save state: %w", step, err)
	}
	return nil
}

// Forget drops a step's record: the resource is gone.
func (r Records) Forget(step plan.ID) error {
	if err := r.Ledger.Remove(string(step)); err != nil {
		return fmt.Errorf("%s: save state: %w", step, err)
	}
	return nil
}

// BeginCreate records, before a create call, that the call is being made
// and with which client token, so a retry after a crash reuses the token
// (AWS then returns the first resource instead of making a second). The
// token changes only when a resource this step had created has since
// disappeared, since AWS would answer a reused token with the dead resource.
func (r Records) BeginCreate(step plan.ID, kind string) (string, error) {
	prev := r.Ledger.Get(string(step))
	gen := 0
	if prev != nil {
		gen, _ = strconv.Atoi(prev.Attr("token_generation"))
		if prev.Status == state.StatusGone {
			gen++
		}
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%s/%d", r.Ledger.Lineage(), r.Stack, step, gen)))
	token := "provision-" + hex.EncodeToString(sum[:])[:32]
	return token, r.put(step, &state.Resource{
		Type:        kind,
		Status:      state.StatusCreating,
		ClientToken: token,
		Attributes: map[string]string{
			"token_generation": strconv.Itoa(gen),
			"create_began":     time.Now().UTC().Format(time.RFC3339Nano),
		},
	})
}

// LostCreate reports, for a step whose record is still "creating" (the
// run that made the create call ended before its answer came), how long
// ago that call began. A call that reached AWS is carried out even though
// its caller is gone, and it may take effect after the next run has
// looked: for kinds whose API takes no client token and no unique name,
// a search that finds nothing proves nothing until the call has had time
// to finish.
func (r Records) LostCreate(step plan.ID) (time.Duration, bool) {
	res := r.Ledger.Get(string(step))
	if res == nil || res.Status != state.StatusCreating {
		return 0, false
	}
	began, err := time.Parse(time.RFC3339Nano, res.Attr("create_began"))
	if err != nil {
		return 0, false
	}
	return time.Since(began), true
}

// Created records a resource the step made (or adopted by its tags).
func (r Records) Created(step plan.ID, kind, id string, attrs map[string]string) error {
	res := &state.Resource{Type: kind, ID: id, Status: state.StatusCreated, Attributes: map[string]string{}}
	if prev := r.Ledger.Get(string(step)); prev != nil {
		res.ClientToken = prev.ClientToken
		if g := prev.Attr("token_generation"); g != "" {
			res.Attributes["token_generation"] = g
		}
	}
	for k, v := range attrs {
		res.Attributes[k] = v
	}
	return r.put(step, res)
}

// External records a resource the stack uses but does not own.
func (r Records) External(step plan.ID, kind, id string, attrs map[string]string) error {
	return r.put(step, &state.Resource{Type: kind, ID: id, Status: state.StatusExternal, Attributes: attrs})
}

// MarkGone notes that a resource the step recorded no longer exists. A
// "creating" record stays as it is: its client token must be reused by the
// next create call. Any other record becomes "gone", so the next create uses
// a new token (AWS would answer a reused one with the dead resource).
func (r Records) MarkGone(step plan.ID) error {
	res := r.Ledger.Get(string(step))
	if res == nil || res.Status == state.StatusCreating || res.Status == state.StatusGone {
		return nil
	}
	return r.put(step, &state.Resource{Type: res.Type, Status: state.StatusGone, Attributes: map[string]string{"token_generation": res.Attr("token_generation")}})
}

// Replacements are the steps whose plan in one walk is a replacement; the
// zero value is empty and ready. The executor plans a step only after
// what it depends on, so a step asking about its dependencies gets the
// answer of this walk.
type Replacements struct {
	mu    sync.Mutex
	steps map[plan.ID]bool
}

// Note records that step's plan replaces its resource.
func (r *Replacements) Note(step plan.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.steps == nil {
		r.steps = map[plan.ID]bool{}
	}
	r.steps[step] = true
}

// Has reports whether step's plan in this walk replaces it.
func (r *Replacements) Has(step plan.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.steps[step]
}
