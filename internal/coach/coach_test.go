package coach_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
)

var user = trustbot.UserKey{Team: "T1", User: "U1"}

// fixedLocale is a Directory that reports one locale for everyone.
type fixedLocale string

func (l fixedLocale) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{UserKey: k, Locale: string(l), TZ: "Asia/Tokyo"}, nil
}

var (
	libOnce   sync.Once
	sharedLib *playbook.Library
	libErr    error
)

// MustLibrary returns the real content, loaded once per test binary: it
// is read-only, and loading it (the tone patterns included) is the
// slowest part of a coach's start.
func MustLibrary(tb testing.TB) *playbook.Library {
	tb.Helper()
	libOnce.Do(func() { sharedLib, libErr = playbook.Load(playbooks.FS) })
	if libErr != nil {
		tb.Fatal(libErr)
	}
	return sharedLib
}

// MustCoach returns a coach on the real content and a fresh SQLite file,
// speaking the given locale.
func MustCoach(tb testing.TB, locale string) *coach.Coach {
	tb.Helper()
	c := coach.New(MustLibrary(tb), MustStore(tb), fixedLocale(locale), trustbot.Japanese, nil)
	c.Seed(1)
	return c
}

// MustStore opens a new database for the test, SQLite or PostgreSQL as
// the suite runs (internal/testdb), closed at the end of the test.
func MustStore(tb testing.TB) *testdb.DB {
	tb.Helper()
	return testdb.Open(tb)
}

func command(c *coach.Coach, text string) trustbot.Reply {
	return c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: user, Text: text})
}

func press(c *coach.Coach, id, value string) trustbot.Reply {
	return c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Action, UserKey: user, ActionID: id, Value: value})
}

// all returns every text of a reply, for searching, with what the user
// typed unmarked (as a renderer shows it).
func all(r trustbot.Reply) string {
	var shown strings.Builder
	trustbot.TypedPieces(marked(r), func(text string, _ bool) { shown.WriteString(text) })
	return shown.String()
}

// marked returns every text of a reply as the coach wrote it.
func marked(r trustbot.Reply) string {
	var b strings.Builder
	b.WriteString(r.Text + "\n")
	for _, blk := range r.Blocks {
		b.WriteString(blk.Title + "\n" + blk.Text + "\n")
		for _, c := range blk.Controls {
			b.WriteString(c.Label + "\n")
			for _, o := range c.Options {
				b.WriteString(o.Label + "\n")
			}
		}
	}
	return b.String()
}

func controls(r trustbot.Reply) []trustbot.Control {
	var out []trustbot.Control
	for _, b := range r.Blocks {
		out = append(out, b.Controls...)
	}
	return out
}

func control(t *testing.T, r trustbot.Reply, id string) trustbot.Control {
	t.Helper()
	for _, c := range controls(r) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no control %q in reply %q", id, r.Text)
	return trustbot.Control{}
}

func TestHelp(t *testing.T) {
	lib := MustLibrary(t)
	for _, tc := range []struct{ locale, text string }{
		{"ja-JP", ""}, {"ja-JP", "help"}, {"ja-JP", "ヘルプ"}, {"en-US", "HELP"}, {"en-GB", "使い方"},
	} {
		lang, _ := trustbot.ParseLang(tc.locale)
		r := command(MustCoach(t, tc.locale), tc.text)
		if !strings.Contains(all(r), lib.T(lang, "help.title")) {
			t.Errorf("%s %q: no help title in %q", tc.locale, tc.text, all(r))
		}
		ids := []string{}
		for _, c := range controls(r) {
			ids = append(ids, c.ID)
		}
		for _, want := range []string{coach.ActTip, coach.ActPhrase, coach.ActCheckHelp} {
			if !slices.Contains(ids, want) {
				t.Errorf("%s %q: help has no %s button", tc.locale, tc.text, want)
			}
		}
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	c := MustCoach(t, "en-US")
	r := command(c, "tpi cooling")
	if got := all(r); !strings.Contains(got, `"tpi"`) || !strings.Contains(got, "/trust tip") {
		t.Fatalf("reply to a typo: %q", got)
	}
	r = command(c, "zzzzzz")
	if got := all(r); strings.Contains(got, "Did you mean") {
		t.Fatalf("suggested something for nonsense: %q", got)
	}
}

func TestTip(t *testing.T) {
	lib := MustLibrary(t)
	t.Run("Topic", func(t *testing.T) {
		c := MustCoach(t, "ja-JP")
		for _, q := range []string{"cooling-period", "ＣＯＯＬＩＮＧ－ＰＥＲＩＯＤ", "cooling"} {
			r := command(c, "tip "+q)
			tp, _ := lib.Topic("cooling-period")
			if !strings.Contains(all(r), tp.Title.In(trustbot.Japanese)) {
				t.Errorf("tip %q: topic line missing in %q", q, all(r))
			}
			if !slices.ContainsFunc(tp.Tips, func(tip *playbook.Tip) bool { return strings.Contains(r.Text, tip.Title.In(trustbot.Japanese)) }) {
				t.Errorf("tip %q: not a tip of the topic: %q", q, r.Text)
			}
			if b := control(t, r, coach.ActTip); b.Value != "cooling-period" {
				t.Errorf("another-tip button value = %q", b.Value)
			}
			if m := control(t, r, coach.ActTipTopic); len(m.Options) != len(lib.Topics) || m.Initial != "cooling-period" || !m.Suggest {
				t.Errorf("topic menu: %d options, initial %q, searched as one types %v", len(m.Options), m.Initial, m.Suggest)
			}
		}
	})
	// The topic menu searched as one types: by alias in either language,
	// titles in the user's; another menu offers nothing.
	t.Run("MenuSearch", func(t *testing.T) {
		rt, _ := lib.Topic("repairing-trust")
		for _, tc := range []struct {
			locale string
			lang   trustbot.Lang
		}{{"ja-JP", trustbot.Japanese}, {"en-US", trustbot.English}} {
			c := MustCoach(t, tc.locale)
			for _, typed := range []string{"修復", "apology", "謝"} {
				r := c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Suggest, UserKey: user, ActionID: coach.ActTipTopic, Text: typed})
				if len(r.Options) == 0 || r.Options[0] != (trustbot.Option{Label: rt.Title.In(tc.lang), Value: rt.ID}) {
					t.Errorf("%s, typing %q: %v", tc.locale, typed, r.Options)
				}
			}
			r := c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Suggest, UserKey: user, ActionID: coach.ActTipTopic})
			if len(r.Options) != len(lib.Topics) || r.Options[0].Value != lib.Topics[0].ID {
				t.Errorf("%s, nothing typed: %d options", tc.locale, len(r.Options))
			}
			r = c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Suggest, UserKey: user, ActionID: coach.ActPhraseStyle, Text: "a"})
			if r.Options == nil || len(r.Options) != 0 {
				t.Errorf("another menu offers %v", r.Options)
			}
		}
	})
	t.Run("UnknownTopicListsTopics", func(t *testing.T) {
		c := MustCoach(t, "en-US")
		r := command(c, "tip quantum-physics")
		got := all(r)
		if !strings.Contains(got, `"quantum-physics"`) {
			t.Fatalf("reply does not name the unknown topic: %q", got)
		}
		for _, tp := range lib.Topics {
			if !strings.Contains(got, tp.Title.In(trustbot.English)) {
				t.Errorf("topic %s not listed", tp.ID)
			}
		}
	})
	t.Run("VarietyWithoutTopic", func(t *testing.T) {
		c := MustCoach(t, "ja-JP")
		seen := map[string]bool{}
		for range 25 {
			r := command(c, "ヒント")
			if seen[r.Text] {
				t.Fatalf("tip repeated within 25 draws: %q", r.Text)
			}
			seen[r.Text] = true
		}
	})
	// Many users at once: each one's recent tips are read into a buffer
	// that goes back to a pool once the tip is picked; one user's draw
	// must never see another's (nor the race detector a buffer shared).
	t.Run("VarietyWhileOthersAsk", func(t *testing.T) {
		c := MustCoach(t, "ja-JP")
		var wg sync.WaitGroup
		for u := range 8 {
			wg.Go(func() {
				k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("UVAR%02d", u)}
				seen := map[string]bool{}
				for range 25 {
					r := c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: k, Text: "tip"})
					if seen[r.Text] {
						t.Errorf("user %s: tip repeated within 25 draws: %q", k.User, r.Text)
						return
					}
					seen[r.Text] = true
				}
			})
		}
		wg.Wait()
	})
	t.Run("EveryTipReachable", func(t *testing.T) {
		c := MustCoach(t, "en-US")
		for _, tp := range lib.Topics {
			want := map[string]bool{}
			for _, tip := range tp.Tips {
				want[tip.Title.In(trustbot.English)] = true
			}
			for range len(tp.Tips) {
				r := press(c, coach.ActTip, tp.ID)
				for title := range want {
					if strings.HasPrefix(r.Text, title+"\n") {
						delete(want, title)
					}
				}
				if !r.ReplaceOriginal {
					t.Fatalf("another tip does not update the reply in place")
				}
			}
			if len(want) > 0 {
				t.Errorf("topic %s: %d tips never shown in %d presses: %v", tp.ID, len(want), len(tp.Tips), want)
			}
		}
	})
	t.Run("TryAndSource", func(t *testing.T) {
		// Every tip of a topic is shown within as many presses as it has
		// tips (EveryTipReachable): check each shown tip's try line and
		// source as it comes.
		c := MustCoach(t, "en-US")
		tries, sources := 0, 0
		for _, tp := range lib.Topics {
			for range len(tp.Tips) {
				r := press(c, coach.ActTip, tp.ID)
				got := all(r)
				for _, tip := range tp.Tips {
					if !strings.HasPrefix(r.Text, tip.Title.In(trustbot.English)+"\n") {
						continue
					}
					if try := tip.Try.In(trustbot.English); try != "" {
						tries++
						if !strings.Contains(got, try) {
							t.Errorf("%s: try line missing", tip.ID)
						}
					}
					if tip.Source != "" {
						sources++
						if !strings.Contains(got, tip.Source) {
							t.Errorf("%s: source missing", tip.ID)
						}
					}
				}
			}
		}
		if tries == 0 || sources == 0 {
			t.Fatalf("checked %d try lines and %d sources: want some of each", tries, sources)
		}
	})

}

func TestPhrase(t *testing.T) {
	lib := MustLibrary(t)
	c := MustCoach(t, "en-US")
	r := command(c, "phrase")
	for _, s := range lib.Situations {
		if !strings.Contains(all(r), s.Title.In(trustbot.English)) {
			t.Errorf("situation list lacks %s", s.ID)
		}
	}
	for _, s := range lib.Situations {
		polite := command(c, "言い方 "+s.ID)
		for _, p := range s.Phrasings {
			if !strings.Contains(all(polite), playbook.FillChat(p.Polite.In(trustbot.English), "Slack")) {
				t.Errorf("%s: polite text missing", p.ID)
			}
		}
		if !slices.ContainsFunc(s.Phrasings, (*playbook.Phrasing).HasCasual) {
			continue
		}
		sw := control(t, polite, coach.ActPhraseStyle)
		casual := press(c, sw.ID, sw.Value)
		if !casual.ReplaceOriginal {
			t.Errorf("%s: switching style does not update in place", s.ID)
		}
		for _, p := range s.Phrasings {
			want := p.Polite.In(trustbot.English)
			if p.HasCasual() {
				want = p.Casual.In(trustbot.English)
			}
			want = playbook.FillChat(want, "Slack")
			if !strings.Contains(all(casual), want) {
				t.Errorf("%s: casual view lacks %q", p.ID, want)
			}
		}
		back := control(t, casual, coach.ActPhraseStyle)
		if back.Value != s.ID+":polite" {
			t.Errorf("%s: switch-back value %q", s.ID, back.Value)
		}
	}
	if r := command(c, "phrase nonsense-words"); !strings.Contains(all(r), `"nonsense-words"`) {
		t.Errorf("unknown situation not named: %q", all(r))
	}
}

// TestCheckLearnedRepeatAsk: in each language, a repeat ask that only the
// learned part catches (the first train draft so labelled) is answered as
// one: the flag is shown naming the user's words as the learned part's,
// with the answer after a no and nothing that asks.
func TestCheckLearnedRepeatAsk(t *testing.T) {
	lib := MustLibrary(t)
	samples, err := playbook.LoadCorpus(playbooks.FS, playbook.Train)
	if err != nil {
		t.Fatal(err)
	}
	rules := lib.Tone.RulesOnly()
	for _, lang := range trustbot.Langs {
		i := slices.IndexFunc(samples, func(s tone.Sample) bool {
			return s.Lang == string(lang) && slices.Contains(s.Labels, tone.RepeatAsk) && lib.Tone.Check(s.Text).Has(tone.RepeatAsk) && !rules.Check(s.Text).Has(tone.RepeatAsk)
		})
		if i < 0 {
			t.Errorf("%s: the learned part adds a repeat ask to no train draft", lang)
			continue
		}
		draft := samples[i].Text
		got := all(command(MustCoach(t, map[trustbot.Lang]string{trustbot.Japanese: "ja-JP", trustbot.English: "en-US"}[lang]), "check "+draft))
		f, _ := lib.Tone.Flag(tone.RepeatAsk)
		for _, want := range []string{f.Label.In(lang), lib.Tone.LearnedName.In(lang), lib.T(lang, "check.after_no"), lib.T(lang, "check.declined_pointer")} {
			if !strings.Contains(got, want) {
				t.Errorf("%q: the answer lacks %q: %q", draft, want, got)
			}
		}
		if strings.Contains(got, lib.T(lang, "check.if_declined")) {
			t.Errorf("%q: answered as a first ask: %q", draft, got)
		}
	}
}

// TestCheck runs the tone examples through the coach (every
// corpusStride-th under the race detector, all of them in make test-tone):
// each flag raised is shown with its label, its explanation and the words
// it saw; a clean draft is said to be clean; a first ask for a contact
// gets the line about a no already given; a draft written after a no gets
// the answer that respects it.
func TestCheck(t *testing.T) {
	lib := MustLibrary(t)
	coaches := map[string]*coach.Coach{"ja": MustCoach(t, "ja-JP"), "en": MustCoach(t, "en-US")}
	for i := 0; i < len(lib.Examples); i += corpusStride {
		e := lib.Examples[i]
		lang, _ := trustbot.ParseLang(e.Lang)
		r := command(coaches[e.Lang], "check "+e.Draft)
		got := all(r)
		res := lib.Tone.Check(e.Draft)
		if !res.Pressured() && !strings.Contains(got, lib.T(lang, "check.clean_title")) {
			t.Errorf("%q: clean draft not reported clean: %q", e.Draft, got)
		}
		afterNo := slices.Contains(e.Flags, tone.RepeatAsk) || slices.Contains(e.Flags, tone.ReasonAsk)
		for _, f := range lib.Tone.Flags {
			if !tone.Pressure(f.ID) {
				continue
			}
			// After a no, no easy way out is not the matter: a softer
			// ask is still an ask past the no, so it is not shown.
			raised := slices.Contains(e.Flags, f.ID) && !(f.ID == tone.NoWayOut && afterNo)
			if raised != strings.Contains(got, f.Label.In(lang)) {
				t.Errorf("%q: flag %s shown = %v, want %v", e.Draft, f.ID, !raised, raised)
			}
			if raised && !strings.Contains(got, f.Explain.In(lang)) {
				t.Errorf("%q: explanation of %s missing", e.Draft, f.ID)
			}
		}
		for _, f := range res.Flags {
			if !tone.Pressure(f.ID) || f.ID == tone.NoWayOut && afterNo {
				continue
			}
			// The words it saw, each named by its cue.
			h := f.Evidence[0]
			c, _ := lib.Tone.Cue(h.Cue)
			text := h.Text
			if r := []rune(text); len(r) > 30 {
				text = string(r[:30]) + "…"
			}
			if !strings.Contains(got, lib.T(lang, "check.seen_word", "text", text, "cue", c.Name.In(lang))) {
				t.Errorf("%q: flag %s does not name %q (%s): %q", e.Draft, f.ID, h.Text, h.Cue, got)
			}
		}
		if afterNo != strings.Contains(got, lib.T(lang, "check.after_no")) {
			t.Errorf("%q: the after-a-no answer shown = %v, want %v", e.Draft, !afterNo, afterNo)
		}
		if afterNo && !strings.Contains(got, lib.T(lang, "check.declined_pointer")) {
			t.Errorf("%q: no pointer to /trust declined", e.Draft)
		}
		firstAsk := slices.Contains(e.Flags, tone.ContactAsk) && !afterNo
		if firstAsk != strings.Contains(got, lib.T(lang, "check.if_declined")) {
			t.Errorf("%q: the line about an earlier no shown = %v, want %v", e.Draft, !firstAsk, firstAsk)
		}
		if res.Pressured() && !afterNo && len(lib.Tone.Offers(res)) > 0 && len(controls(r)) == 0 {
			t.Errorf("%q: no buttons to softer phrasings", e.Draft)
		}
	}
	c := coaches["ja"]
	if r := command(c, "チェック"); !strings.Contains(all(r), lib.T(trustbot.Japanese, "check.usage")) {
		t.Errorf("empty check: %q", all(r))
	}
	long := "check " + strings.Repeat("もしよかったら", 2000)
	if r := command(c, long); !strings.Contains(all(r), lib.T(trustbot.Japanese, "check.truncated", "max", strconv.Itoa(coach.MaxInput))) {
		t.Errorf("long draft: truncation not said: %q", all(r))
	}
}

// TestCheckWordsAsWritten: the words a flag names are the user's own
// (「LINE」, not the 「line」 the check reads), whole (「返事ください」, not
// 「事ください」), and each is named once in a flag's line.
func TestCheckWordsAsWritten(t *testing.T) {
	lib := MustLibrary(t)
	c := MustCoach(t, "ja-JP")
	got := all(command(c, "check ＬＩＮＥ教えてください。今日中に返事ください"))
	for _, want := range []string{"「ＬＩＮＥ」", "「返事ください」"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not named: %q", want, got)
		}
	}
	for _, not := range []string{"「line」", "「事ください」", "「教えてください。」"} {
		if strings.Contains(got, not) {
			t.Errorf("%s named: %q", not, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		rest, ok := strings.CutPrefix(line, strings.TrimSuffix(lib.T(trustbot.Japanese, "check.seen", "words", ""), " "))
		if !ok {
			continue
		}
		words := map[string]bool{}
		for _, w := range strings.Split(rest, lib.T(trustbot.Japanese, "check.seen_separator")) {
			word, _, _ := strings.Cut(w, "（")
			if words[word] {
				t.Errorf("%s named twice in %q", word, line)
			}
			words[word] = true
		}
	}
}

// TestNoWayToAskAfterANo: a draft that asks again after a no, whether its
// label says so (in the examples and every part of the corpus: every
// corpusStride-th draft of each under the race detector, all of them in
// make test-tone) or the check reads it so, is never answered with a way to ask. The reply offers
// no situation that asks, quotes nothing that asks for a contact, and,
// when the check reads it as a repeat ask, says that not sending is a good
// choice.
func TestNoWayToAskAfterANo(t *testing.T) {
	lib := MustLibrary(t)
	var drafts []tone.Sample
	for i := 0; i < len(lib.Examples); i += corpusStride {
		e := lib.Examples[i]
		drafts = append(drafts, tone.Sample{Lang: e.Lang, Text: e.Draft, Labels: e.Flags, Where: fmt.Sprintf("%s:%d", e.File, e.Line)})
	}
	for _, split := range []string{playbook.Train, playbook.Dev, playbook.Retired, playbook.Fresh, playbook.Holdout} {
		c, err := playbook.LoadCorpus(playbooks.FS, split)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(c); i += corpusStride {
			drafts = append(drafts, c[i])
		}
	}
	asking := map[string]bool{}
	for _, id := range lib.Tone.Asking {
		sit, _ := lib.Situation(id)
		for _, p := range sit.Phrasings {
			for _, txt := range []playbook.Text{p.Polite, p.Casual} {
				for _, s := range txt {
					asking[playbook.FillChat(s, "Slack")] = true
				}
			}
		}
	}
	coaches := map[string]*coach.Coach{"ja": MustCoach(t, "ja-JP"), "en": MustCoach(t, "en-US")}
	// The drafts are checked on every core at once (the tone check is
	// safe for concurrent use); a suggested phrasing, the same for many
	// drafts, is checked once.
	results := make([]tone.Result, len(drafts))
	var wg sync.WaitGroup
	for w, workers := 0, runtime.GOMAXPROCS(0); w < workers; w++ {
		wg.Go(func() {
			for i := w; i < len(drafts); i += workers {
				results[i] = lib.Tone.Check(drafts[i].Text)
			}
		})
	}
	wg.Wait()
	contactAsk := map[string]bool{}
	n := 0
	for i, d := range drafts {
		res := results[i]
		if !slices.Contains(d.Labels, tone.RepeatAsk) && !res.Has(tone.RepeatAsk) {
			continue
		}
		n++
		lang, _ := trustbot.ParseLang(d.Lang)
		r := command(coaches[d.Lang], "check "+d.Text)
		for _, c := range controls(r) {
			if c.ID == coach.ActPhrase && slices.Contains(lib.Tone.Asking, c.Value) {
				t.Errorf("%s %q: a repeat ask is offered %q, a way to ask", d.Where, d.Text, c.Value)
			}
		}
		for _, b := range r.Blocks {
			if b.Kind != trustbot.Quote {
				continue
			}
			ask, seen := contactAsk[b.Text]
			if !seen {
				ask = lib.Tone.Check(b.Text).Has(tone.ContactAsk)
				contactAsk[b.Text] = ask
			}
			if asking[b.Text] || ask {
				t.Errorf("%s %q: a repeat ask is answered with a way to ask: %q", d.Where, d.Text, b.Text)
			}
		}
		if res.Has(tone.RepeatAsk) && !strings.Contains(all(r), lib.T(lang, "check.after_no")) {
			t.Errorf("%s %q: no word that not sending is a good choice", d.Where, d.Text)
		}
	}
	if n < 10 {
		t.Fatalf("only %d repeat asks: too few for the test to show anything", n)
	}
	t.Logf("%d repeat asks answered without a way to ask", n)
}

// TestPhrasingsPassToneCheck: what trustbot suggests sending must pass its
// own tone check.
func TestPhrasingsPassToneCheck(t *testing.T) {
	lib := MustLibrary(t)
	for _, s := range lib.Situations {
		for _, p := range s.Phrasings {
			for _, text := range []playbook.Text{p.Polite, p.Casual} {
				for lang, draft := range text {
					for _, chat := range []string{"Slack", "Teams"} {
						draft := playbook.FillChat(draft, chat)
						if res := lib.Tone.Check(draft); res.Pressured() {
							t.Errorf("%s (%s): the tone check flags our own phrasing %v: %q", p.ID, lang, res.IDs(), draft)
						}
					}
				}
			}
		}
	}
}

func TestLang(t *testing.T) {
	lib := MustLibrary(t)
	c := MustCoach(t, "ja-JP")
	if r := command(c, "help"); !strings.Contains(all(r), lib.T(trustbot.Japanese, "help.title")) {
		t.Fatal("auto does not follow the ja locale")
	}
	r := command(c, "lang en")
	if !strings.Contains(all(r), lib.T(trustbot.English, "lang.saved", "setting", "English")) {
		t.Fatalf("lang en: %q", all(r))
	}
	if r := command(c, "help"); !strings.Contains(all(r), lib.T(trustbot.English, "help.title")) {
		t.Fatal("lang en not applied")
	}
	r = command(c, "言語")
	for _, v := range []string{"ja", "en", "auto"} {
		if !slices.ContainsFunc(controls(r), func(ctl trustbot.Control) bool { return ctl.ID == coach.ActLang && ctl.Value == v }) {
			t.Errorf("language menu lacks %s", v)
		}
	}
	press(c, coach.ActLang, "auto")
	if r := command(c, "help"); !strings.Contains(all(r), lib.T(trustbot.Japanese, "help.title")) {
		t.Fatal("auto does not return to the locale")
	}
	if r := command(c, "lang klingon"); !strings.Contains(all(r), `「klingon」`) {
		t.Fatalf("unknown language: %q", all(r))
	}
	// No locale at all: the default language.
	if r := command(MustCoach(t, ""), "help"); !strings.Contains(all(r), lib.T(trustbot.Japanese, "help.title")) {
		t.Fatal("no locale: default language not used")
	}
}

// TestForgedActions: control values come back from outside and are checked.
func TestForgedActions(t *testing.T) {
	lib := MustLibrary(t)
	c := MustCoach(t, "en-US")
	invalid := lib.T(trustbot.English, "error.invalid")
	for _, a := range [][2]string{
		{"no.such.action", ""},
		{coach.ActTip, "../../etc/passwd"},
		{coach.ActTipTopic, strings.Repeat("x", 5000)},
		{coach.ActPhrase, "not-a-situation"},
		{coach.ActPhraseStyle, "thanks:shouting"},
		{coach.ActLang, "\xff\xfe"},
	} {
		r := press(c, a[0], a[1])
		if a[0] == coach.ActLang {
			if !strings.Contains(all(r), lib.T(trustbot.English, "lang.current", "setting", "")[:5]) && !strings.Contains(all(r), "isn't an option") {
				t.Errorf("%v: %q", a, all(r))
			}
			continue
		}
		if r.Text != invalid {
			t.Errorf("%v: got %q, want the invalid-action answer", a, r.Text)
		}
	}
	r := c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: "T1", User: "U1; DROP TABLE"}})
	if r.Text != lib.T(trustbot.Japanese, "error.invalid") {
		t.Errorf("invalid user key answered %q", r.Text)
	}
}

// TestCatalogHasEveryKey finds every literal key the coach passes to tr()
// and checks that both catalogs have it.
func TestCatalogHasEveryKey(t *testing.T) {
	lib := MustLibrary(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "tr" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			n++
			if !lib.HasKey(key) {
				t.Errorf("%s: key %q missing from a catalog", fset.Position(lit.Pos()), key)
			}
			return true
		})
	}
	if n < 30 {
		t.Fatalf("found only %d keys: the scan is broken", n)
	}
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{"", "help", "tip cooling", "phrase thanks", "check LINE教えて", "lang en", "ヒント　ｃｏｏｌｉｎｇ", "ヒント LINE断られた", "phrase sorry", "フレーズ ・・", "tip managr", "\xff\xfe", "check \x00\x1b[31m", strings.Repeat("あ", 5000)} {
		f.Add(s)
	}
	c := MustCoach(f, "ja-JP")
	f.Fuzz(func(t *testing.T, text string) {
		r := command(c, text)
		if r.Text == "" {
			t.Fatalf("empty reply to %.80q", text)
		}
		for _, b := range r.Blocks {
			if !utf8.ValidString(b.Text) || !utf8.ValidString(b.Title) {
				t.Fatalf("invalid UTF-8 in reply to %.80q", text)
			}
		}
	})
}

// TestMetricNamesListEveryAction: every control ID declared in the coach
// (an Act… constant) is among the names metrics count, else its presses
// would be counted as "other".
func TestMetricNamesListEveryAction(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := coach.MetricNames()
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			spec, ok := node.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Act") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				n++
				if !slices.Contains(names, v) {
					t.Errorf("%s: action %s (%q) is not in coach.MetricNames", fset.Position(id.Pos()), id.Name, v)
				}
			}
			return true
		})
	}
	if n < 20 {
		t.Fatalf("found only %d actions: the scan is broken", n)
	}
	for _, cmd := range []string{"help", "unknown", "tip", "checkin", "weekly", "forget"} {
		if !slices.Contains(names, cmd) {
			t.Errorf("command %s is not in coach.MetricNames", cmd)
		}
	}
}
