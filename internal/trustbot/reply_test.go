package trustbot_test

import (
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestTypedPieces: a renderer that formats text gets what a user typed
// apart from what the coach wrote; the other renderers (Mentions) and
// input (Unmarked) lose the marks.
func TestTypedPieces(t *testing.T) {
	s := "Note: " + trustbot.Typed("*x*\x1c\x1e"+trustbot.MentionUser("U1")) + " by " + trustbot.MentionUser("U2") + "\x1e stray\x1c"
	var got []string
	trustbot.TypedPieces(s, func(text string, typed bool) {
		if typed {
			text = "[" + text + "]"
		}
		got = append(got, text)
	})
	if want := "Note: |[*x*@U1]| by " + trustbot.MentionUser("U2") + " stray"; strings.Join(got, "|") != want {
		t.Errorf("pieces %q, want %q", strings.Join(got, "|"), want)
	}
	var b strings.Builder
	trustbot.Mentions(s, func(text string, mention bool, sigil byte, id string) {
		if mention {
			text = "<" + string(sigil) + id + ">"
		}
		b.WriteString(text)
	})
	if want := "Note: *x*@U1 by <@U2> stray"; b.String() != want {
		t.Errorf("Mentions shows %q, want %q", b.String(), want)
	}
	if u := trustbot.Unmarked(s); strings.ContainsAny(u, "\x1c\x1d\x1e\x1f") {
		t.Errorf("Unmarked left a mark: %q", u)
	}
}
