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
// order, with evidence; every hit is words of the draft as normalized,
// shown as the user wrote them, and so is every piece of a flag's evidence.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "LINE教えて", "しつこくてごめん！やっぱりLINEだめ？", "What made you say no? Was it me?", "\xff\xfe", "🙏🙏🙏", strings.Repeat("今すぐ", 500), "a.b.c?!…\n\n。", "SORRY, I was pushy. But dinner Saturday, just us?"} {
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
			for _, h := range fl.Evidence {
				if h.Text == "" || !utf8.ValidString(h.Text) || utf8.ValidString(s) && !strings.Contains(s, h.Text) {
					t.Fatalf("%q: flag %s quotes %+v, not as written", s, fl.ID, h)
				}
			}
		}
		for _, h := range res.Hits {
			if h.Norm == "" || !strings.Contains(norm, h.Norm) {
				t.Fatalf("%q: hit %+v not in the normalized draft %q", s, h, norm)
			}
			if h.Text == "" || !utf8.ValidString(h.Text) || utf8.ValidString(s) && !strings.Contains(s, h.Text) {
				t.Fatalf("%q: hit %+v not shown as written", s, h)
			}
		}
	})
}

// BenchmarkCheck checks the examples in turn, with the learned part and
// with the rules alone.
func BenchmarkCheck(b *testing.B) {
	l := library(b)
	for _, c := range []struct {
		name string
		d    *tone.Detector
	}{{"learned", l.Tone.Detector}, {"rules-only", l.Tone.RulesOnly()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.d.Check(l.Examples[i%len(l.Examples)].Draft)
			}
		})
	}
}

// TestEvidenceAsWritten: the words a flag names are the user's own, in
// their spelling and width, as whole words, not the text as normalized.
func TestEvidenceAsWritten(t *testing.T) {
	l := library(t)
	for _, c := range []struct{ draft, cue, want string }{
		{"LINE教えてください。今日中に返事ください", tone.CueContact, "LINE"},
		{"LINE教えてください。今日中に返事ください", tone.CueReply, "返事ください"},
		{"ＬＩＮＥ交換しませんか？", tone.CueContact, "ＬＩＮＥ"},
		{"ﾗｲﾝ教えて", tone.CueContact, "ﾗｲﾝ"},
		{"Can I get UR number?", tone.CueContact, "UR number"},
		{"Why did you say NO?", tone.CueWhyNo, "Why did you say NO"},
		{"しつこくてごめん！やっぱりLINEだめ？", tone.CueAgain, "やっぱり"},
	} {
		res := l.Tone.Check(c.draft)
		var got []string
		for _, h := range res.Hits {
			if h.Cue == c.cue {
				got = append(got, h.Text)
			}
		}
		if !slices.Contains(got, c.want) {
			t.Errorf("%q: %s shown as %q, want %q among them", c.draft, c.cue, got, c.want)
		}
	}
}

// TestGroupNextToMeeting: a group in the next sentence makes a meeting a
// group one, but it does not spread further along the draft.
func TestGroupNextToMeeting(t *testing.T) {
	l := library(t)
	for draft, want := range map[string]bool{
		"ランチ、うどんどうですか？みんなで行きましょー🍜":                                                         false,
		"Drinks after the review? The whole team is going.":                                false,
		"みんなで集まります。映画もいいですね。週末、二人で映画行かない？":                                                 true,
		"The team dinner is on Friday. Karaoke after? And brunch on Sunday, want to come?": true,
	} {
		if got := l.Tone.Check(draft).Has(tone.ContactAsk); got != want {
			t.Errorf("%q: contact-ask %v, want %v", draft, got, want)
		}
	}
}

// TestFlagEvidenceAsWritten: words a rule finds beyond the cues (an
// apology before a "but" that asks again) are quoted in the flag as the
// user typed them, in their case and width.
func TestFlagEvidenceAsWritten(t *testing.T) {
	l := library(t)
	for _, c := range []struct{ draft, want string }{
		{"SORRY, I was pushy the other day. But could we get dinner this weekend, just us?", "SORRY"},
		{"Ｓｏｒｒｙ about the other day. But could we get dinner this weekend, just us?", "Ｓｏｒｒｙ"},
		{"この前はｺﾞﾒﾝ、強引だったよね。でも週末のドライブ、誘ってもいい？", "ｺﾞﾒﾝ"},
	} {
		f, ok := l.Tone.Check(c.draft).Flag(tone.RepeatAsk)
		if !ok {
			t.Errorf("%q: no repeat-ask", c.draft)
			continue
		}
		var got []string
		for _, h := range f.Evidence {
			got = append(got, h.Text)
		}
		if !slices.Contains(got, c.want) {
			t.Errorf("%q: repeat-ask quotes %q, want %q among them", c.draft, got, c.want)
		}
	}
}

// TestLearnedPartOnlyAdds: on every example and train draft (every
// corpusStride-th of each under the race detector), the learned part
// keeps every flag the rules raise, with the rules' evidence, and what it
// adds names the user's words under its own cue.
func TestLearnedPartOnlyAdds(t *testing.T) {
	l := library(t)
	if !l.Tone.HasModel() {
		t.Fatal("no learned part in the built-in content")
	}
	rules := l.Tone.RulesOnly()
	samples, err := playbook.LoadCorpus(playbooks.FS, playbook.Train)
	if err != nil {
		t.Fatal(err)
	}
	drafts := make([]string, 0, (len(samples)+len(l.Examples))/corpusStride+2)
	for i := 0; i < len(samples); i += corpusStride {
		drafts = append(drafts, samples[i].Text)
	}
	for i := 0; i < len(l.Examples); i += corpusStride {
		drafts = append(drafts, l.Examples[i].Draft)
	}
	added := 0
	for _, d := range drafts {
		full, alone := l.Tone.Check(d), rules.Check(d)
		for _, f := range alone.Flags {
			i := slices.IndexFunc(full.Flags, func(g tone.Flag) bool { return g.ID == f.ID })
			if i < 0 || !slices.Equal(full.Flags[i].Evidence, f.Evidence) {
				t.Fatalf("%q: the rules' %s is lost or changed with the learned part", d, f.ID)
			}
		}
		for _, f := range full.Flags {
			if alone.Has(f.ID) {
				continue
			}
			added++
			if !slices.ContainsFunc(f.Evidence, func(h tone.Hit) bool { return h.Cue == tone.CueLearned }) {
				t.Fatalf("%q: %s added without the learned cue: %+v", d, f.ID, f.Evidence)
			}
		}
	}
	t.Logf("the learned part added %d flags to %d drafts", added, len(drafts))
}
