package termtext_test

import (
	"testing"

	"github.com/provision-dev/provision/pkg/termtext"
)

func TestClean(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "HTTP 403: Forbidden", "HTTP 403: Forbidden"},
		{"newline and tab stay", "line one\n\tline two", "line one\n\tline two"},
		{"printable unicode stays", "Zürich – 東京 ✓ \ufffd", "Zürich – 東京 ✓ \ufffd"},
		{"colour", "\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"clear screen and home", "\x1b[2J\x1b[Hfake prompt", "[2J[Hfake prompt"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "]8;;https://evil.example/\\click]8;;\\"},
		{"OSC title with BEL", "\x1b]0;owned\x07text", "]0;ownedtext"},
		{"CR overwrite", "failed\rok    ", "failedok    "},
		{"CRLF console line", "cloud-init[1]: done\r\n", "cloud-init[1]: done\n"},
		{"backspace", "ok\b\bno", "okno"},
		{"NUL and DEL", "a\x00b\x7fc", "abc"},
		{"raw 0x9b CSI byte", "\x9b31mred", "31mred"},
		{"C1 CSI U+009B", "\u009b31mred", "31mred"},
		{"C1 OSC U+009D and ST U+009C", "\u009d0;title\u009cx", "0;titlex"},
		{"U+0085 next line", "a\u0085b", "ab"},
		{"bidi override U+202E", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"bidi embeddings and isolates", "\u202Aa\u202Bb\u202Cc\u202Dd\u2066e\u2067f\u2068g\u2069", "abcdefg"},
		{"line separator U+2028", "a\u2028b", "ab"},
		{"paragraph separator U+2029", "a\u2029b", "ab"},
		{"invalid UTF-8", "a\xffb\xc3", "ab"},
		{"token split by controls joins", "glrt-ab\x1bcd", "glrt-abcd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := termtext.Clean(c.in); got != c.want {
				t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
