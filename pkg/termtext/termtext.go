// Package termtext makes text from outside the tool (AWS and GitLab
// messages, a manager's boot report and console output) safe to write to
// a terminal.
//
// A terminal acts on what it is sent: ESC and CSI sequences move the
// cursor, clear the screen, rewrite the window title or make hidden
// hyperlinks (OSC 8); a carriage return lets a line overwrite what was
// just printed; bidi controls reorder what is shown so that it reads
// differently from what it is. Any of these in a message from a
// compromised manager, a hostile GitLab or a proxy could make the output
// lie about what happened.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s without the characters a terminal would act on rather
// than show: every control character except newline and tab (C0 including
// ESC and CR, DEL, C1 U+0080-U+009F), the bidi embedding, override and
// isolate controls (U+202A-U+202E, U+2066-U+2069), the line and paragraph
// separators U+2028 and U+2029, and bytes that are not UTF-8 (a raw 0x9B
// is CSI to a terminal in an 8-bit mode).
//
// They are removed, not replaced with a placeholder such as "?":
//   - the printable rest of an escape sequence ("[31m", "]8;;https://...")
//     stays visible, so tampering still shows;
//   - console output ends its lines with CR LF, which would otherwise put
//     a placeholder at the end of every line;
//   - a token split by control characters is whole again, so a redaction
//     applied after Clean recognises it (a "?" would cut it in two and the
//     second half would be shown).
func Clean(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if !(r == utf8.RuneError && size <= 1) && !Acted(r) {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// needsCleaning spares the common case, plain text, a copy.
func needsCleaning(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, Acted) >= 0
}

// Acted reports whether a terminal acts on r instead of showing it, or r
// hides or reorders the text around it. Newline and tab are not acted on.
func Acted(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f: // C0 (ESC, CR, BEL, backspace...) and DEL
		return true
	case r >= 0x80 && r <= 0x9f: // C1, including CSI U+009B and OSC U+009D
		return true
	case r >= 0x202a && r <= 0x202e: // bidi embeddings and overrides
		return true
	case r >= 0x2066 && r <= 0x2069: // bidi isolates
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c: // bidi marks
		return true
	case r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff: // zero-width characters, which hide text
		return true
	}
	return false
}
