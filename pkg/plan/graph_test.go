package plan

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// fakeStep is a step of the test graphs: it records its runs and answers
// with the change and errors it is told to.
type fakeStep struct {
	id     ID
	deps   []ID
	action Action
	// tryAgain makes the first n attempts of Plan ask for a retry.
	tryAgain int
	fail     error

	mu       sync.Mutex
	planned  int
	applied  int
	deleted  int
	onApply  func()
	onDelete func()
}

func (s *fakeStep) ID() ID          { return s.id }
func (s *fakeStep) DependsOn() []ID { return s.deps }

func (s *fakeStep) Plan(ctx context.Context) (Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planned++
	if s.planned <= s.tryAgain {
		return Change{Step: s.id}, TryAgainf("%s not ready", s.id)
	}
	if s.fail != nil {
		return Change{Step: s.id}, s.fail
	}
	return Change{Step: s.id, Kind: "fake", Name: string(s.id), Action: s.action}, nil
}

func (s *fakeStep) Apply(ctx context.Context, c Change) error {
	s.mu.Lock()
	s.applied++
	f := s.onApply
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

func (s *fakeStep) PlanDelete(ctx context.Context) (Change, error) {
	return Change{Step: s.id, Kind: "fake", Name: string(s.id), Action: Delete}, nil
}

func (s *fakeStep) Delete(ctx context.Context, c Change) error {
	s.mu.Lock()
	s.deleted++
	f := s.onDelete
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

func ids(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, string(s.ID()))
	}
	return strings.Join(out, " ")
}

func TestGraphOrder(t *testing.T) {
	g, err := NewGraph(
		&fakeStep{id: "vpc"},
		&fakeStep{id: "igw", deps: []ID{"vpc"}},
		&fakeStep{id: "subnet", deps: []ID{"vpc"}},
		&fakeStep{id: "eip"},
		&fakeStep{id: "nat", deps: []ID{"subnet", "eip", "igw"}},
		&fakeStep{id: "rtb", deps: []ID{"nat"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(g.Order(false)), "vpc igw subnet eip nat rtb"; got != want {
		t.Errorf("order = %q, want %q", got, want)
	}
	if got, want := ids(g.Order(true)), "rtb nat igw subnet vpc eip"; got != want {
		t.Errorf("reverse order = %q, want %q", got, want)
	}
}

func TestGraphRejectsCyclesAndUnknownSteps(t *testing.T) {
	_, err := NewGraph(&fakeStep{id: "a", deps: []ID{"c"}}, &fakeStep{id: "b", deps: []ID{"a"}}, &fakeStep{id: "c", deps: []ID{"b"}}, &fakeStep{id: "d"})
	if err == nil || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), "a, b, c") {
		t.Errorf("cycle not reported with its members: %v", err)
	}
	if _, err := NewGraph(&fakeStep{id: "a", deps: []ID{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown step "nope"`) {
		t.Errorf("unknown dependency not reported: %v", err)
	}
	if _, err := NewGraph(&fakeStep{id: "a"}, &fakeStep{id: "a"}); err == nil {
		t.Errorf("duplicate step not reported")
	}
	if _, err := NewGraph(&fakeStep{id: "a", deps: []ID{"a"}}); err == nil {
		t.Errorf("self-dependency not reported")
	}
}
