package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/provision-dev/provision/pkg/termtext"
)

// ProgressEvery is how often a step that is still changing says so.
const ProgressEvery = 10 * time.Second

// Progress prints a walk for the person watching it: a line when a step
// starts changing something and when it is done (with the id and the time
// it took), and while it waits, a line at least every ProgressEvery saying
// what it waits for, e.g.
//
//	nat: still creating (nat-0abc, pending) [40s elapsed]
//
// Steps that change nothing print nothing. JSON writes one object per
// line with the same facts.
type Progress struct {
	w     io.Writer
	json  bool
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	running map[ID]*progressLine
	stop    chan struct{}
	stopped chan struct{}
}

type progressLine struct {
	change  Change
	started time.Time
	printed time.Time
	status  string
}

// NewProgress prints to w, as text or as JSON lines. every <= 0 means
// ProgressEvery.
func NewProgress(w io.Writer, asJSON bool, every time.Duration) *Progress {
	if every <= 0 {
		every = ProgressEvery
	}
	return &Progress{w: w, json: asJSON, every: every, now: time.Now, running: map[ID]*progressLine{}}
}

// Start begins the "still waiting" lines; Stop ends them.
func (p *Progress) Start() {
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	tick := time.NewTicker(min(p.every/4, time.Second))
	go func() {
		defer close(p.stopped)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.remind()
			}
		}
	}()
}

// Stop ends the reminders; it waits for the last one to be written.
func (p *Progress) Stop() {
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.stop = nil
	}
}

// Observe is an Executor's Observe.
func (p *Progress) Observe(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := ev.Change.Step
	now := p.now()
	switch ev.Phase {
	case PhaseApplying:
		if l := p.running[id]; l != nil {
			// A retry: the same change again, already announced.
			l.change = ev.Change
			return
		}
		l := &progressLine{change: ev.Change, started: now.Add(-ev.Elapsed), printed: now, status: ev.Change.ID}
		p.running[id] = l
		p.print(l.change, "applying", verbing(l.change.Action), l.status, 0)
	case PhaseWaiting, PhaseRetrying:
		if l := p.running[id]; l != nil {
			l.status = ev.Status
		}
	case PhaseDone:
		if l := p.running[id]; l != nil {
			delete(p.running, id)
			p.print(ev.Change, "done", done(ev.Change.Action), ev.Change.ID, ev.Elapsed)
		}
	case PhaseFailed:
		if l := p.running[id]; l != nil {
			delete(p.running, id)
			p.print(l.change, "failed", "failed", firstLine(ev.Err), ev.Elapsed)
		}
	}
}

// remind prints a line for each step that has printed nothing for every.
func (p *Progress) remind() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, l := range p.running {
		if now.Sub(l.printed) < p.every {
			continue
		}
		l.printed = now
		status := l.status
		if status == "" {
			status = l.change.ID
		}
		p.print(l.change, "waiting", "still "+verbing(l.change.Action), status, now.Sub(l.started))
	}
}

func (p *Progress) print(c Change, event, verb, detail string, elapsed time.Duration) {
	// detail is an AWS id, status or error message: outside text.
	detail = termtext.Clean(detail)
	if p.json {
		line := map[string]any{"time": p.now().UTC().Format(time.RFC3339), "step": string(c.Step), "event": event, "action": c.Action.String()}
		if c.ID != "" {
			line["id"] = c.ID
		}
		if detail != "" {
			line["detail"] = detail
		}
		if event != "applying" {
			line["elapsed_seconds"] = elapsed.Round(time.Second).Seconds()
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", c.Step, verb)
	if detail != "" {
		fmt.Fprintf(&b, " (%s)", detail)
	}
	switch event {
	case "applying":
	case "waiting":
		fmt.Fprintf(&b, " [%s elapsed]", elapsed.Round(time.Second))
	default:
		fmt.Fprintf(&b, " [%s]", roundElapsed(elapsed))
	}
	fmt.Fprintln(p.w, b.String())
}

// roundElapsed shows short steps in tenths of a second, long ones in seconds.
func roundElapsed(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
