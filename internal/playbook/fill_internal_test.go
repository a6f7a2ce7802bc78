package playbook

import (
	"strings"
	"testing"
)

// FuzzFill: fill does what a strings.Replacer of "{name}" → value pairs
// does, without building one per call.
func FuzzFill(f *testing.F) {
	f.Add("{count} つのヒント {name}", "count", "3", "name", "{count}")
	f.Add("{{a}} {a", "a", "x", "b", "y")
	f.Add("}{a}{", "a", "", "a", "z")
	f.Add("日本語{名前}です", "名前", "田中", "x", "")
	f.Fuzz(func(t *testing.T, s, k1, v1, k2, v2 string) {
		if strings.ContainsAny(k1+k2, "{}") {
			return // names are words
		}
		args := []string{k1, v1, k2, v2}
		pairs := []string{"{" + k1 + "}", v1, "{" + k2 + "}", v2}
		if want, got := strings.NewReplacer(pairs...).Replace(s), fill(s, args); got != want {
			t.Fatalf("fill(%q, %q) = %q, want %q", s, args, got, want)
		}
	})
}
