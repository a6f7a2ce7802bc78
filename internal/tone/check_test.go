package tone_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/playbooks"
)

var (
	libOnce sync.Once
	lib     *playbook.Library
	libErr  error
)

func library(tb testing.TB) *playbook.Library {
	tb.Helper()
	libOnce.Do(func() { lib, libErr = playbook.Load(playbooks.FS) })
	if libErr != nil {
		tb.Fatal(libErr)
	}
	return lib
}

// FuzzCheck: any text is read without a panic; every flag is known, in
// order, with evidence taken from the draft as normalized.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "LINE教えて", "しつこくてごめん！やっぱりLINEだめ？", "What made you say no? Was it me?", "\xff\xfe", "🙏🙏🙏", strings.Repeat("今すぐ", 500), "a.b.c?!…\n\n。"} {
		f.Add(s)
	}
	l := library(f)
	f.Fuzz(func(t *testing.T, s string) {
		norm := l.Tone.Normalize(s)
		res := l.Tone.Check(s)
		last := -1
		for _, fl := range res.Flags {
			i := slices.Index(tone.Flags, fl.ID)
			if i <= last {
				t.Fatalf("%q: flags %v out of order or unknown", s, res.IDs())
			}
			last = i
			if len(fl.Evidence) == 0 {
				t.Fatalf("%q: flag %s with no evidence", s, fl.ID)
			}
		}
		for _, h := range res.Hits {
			if h.Text == "" || !utf8.ValidString(h.Text) || !strings.Contains(norm, h.Text) {
				t.Fatalf("%q: hit %+v not in the normalized draft %q", s, h, norm)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	l := library(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.Tone.Check(l.Examples[i%len(l.Examples)].Draft)
	}
}
