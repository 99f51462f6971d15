package command

import (
	"bytes"
	"strings"
	"testing"
)

func TestConfirm(t *testing.T) {
	cases := []struct {
		interactive, auto bool
		input             string
		ok                bool
		want              string
	}{
		{auto: true, ok: true},
		{interactive: true, input: "yes\n", ok: true},
		{interactive: true, input: "y\n", want: "cancelled: nothing was changed"},
		{interactive: true, input: "", want: "cancelled"},
		{want: "--auto-approve"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		s := &session{opts: Options{Interactive: c.interactive, Stdin: strings.NewReader(c.input), Stdout: &out}}
		err := s.confirm(c.auto, "Do you want to perform these actions?")
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: err = %v", c, err)
		}
		if c.interactive && !strings.Contains(out.String(), "Only 'yes' will be accepted") {
			t.Errorf("%+v: no prompt: %q", c, out.String())
		}
	}
}
