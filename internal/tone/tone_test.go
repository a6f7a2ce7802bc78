package tone

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	d, errs := New(Spec{
		Replace: map[string]string{"🙏": " お願い "},
		Words:   map[string]string{"u": "you", "ur": "your", "plz": "please"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for in, want := range map[string]string{
		"ＬＩＮＥ教えて？！":                 "line教えて?!",
		"ｶﾀｶﾅ　ＯＫ":                   "カタカナ ok",
		"Give me UR number plz":     "give me your number please",
		"教えて🙏🙏":                     "教えて お願い お願い ", // the replacement, not the run, is kept
		"教えてーーー！！！":                 "教えてー!",
		"pleeeeease":                "pleease",
		"what’s up":                 "what's up",
		"LINE😊教えて👍🏻":                "line 教えて ",
		"your project 😕 one dinner": "your project \n one dinner", // set apart by spaces, it ends a sentence
		"u\u200d":                   "you",
		"ok   then":                 "ok then",
		"L I N E 交 換 再 挑 戦":         "line交換再挑戦",
		"Ｌ Ｉ Ｎ Ｅ ください":              "line ください",
		"u r a star":                "you r a star", // three letters stay words
		"a b c":                     "a b c",
		// Chat markup: a shortcode is an emoji, a mention a name; hours
		// and "re:" are neither.
		"come on :coffee: ok":     "come on \n ok",
		"教えて:pray:":               "教えて ",
		":+1: ok":                 " ok",
		"hi <@U04ABCD12>, lunch?": "hi , lunch?",
		"at 10:30:00":             "at 10:30:00",
		"re:fix: the build":       "re:fix: the build",
	} {
		if got := d.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSentences(t *testing.T) {
	for in, want := range map[string][]string{
		"しつこくてごめん!やっぱりlineだめ?": {"しつこくてごめん!", "やっぱりlineだめ?"},
		"だめ?!ねえ。":                  {"だめ?!", "ねえ。"},
		"the rate is 3.5. ok? yes": {"the rate is 3.5.", "ok?", "yes"},
		"line 1\nline 2":           {"line 1", "line 2"},
		"after 3.5 hours…and that": {"after 3.5 hours…", "and that"},
		"":                         nil,
		"   ":                      nil,
		"udon for lunch? why not!": {"udon for lunch?", "why not!"},
	} {
		if got := Sentences(in); !slices.Equal(got, want) {
			t.Errorf("Sentences(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitTop(t *testing.T) {
	for in, want := range map[string][]string{
		`a|b`:          {`a`, `b`},
		`(?:a|b)c|d`:   {`(?:a|b)c`, `d`},
		`[|]x|y`:       {`[|]x`, `y`},
		`[]|]x|y`:      {`[]|]x`, `y`},
		`\|x|y`:        {`\|x`, `y`},
		`[^]|a]b|c`:    {`[^]|a]b`, `c`},
		`only`:         {`only`},
		`x(?:y|(z|w))`: {`x(?:y|(z|w))`},
	} {
		if got := splitTop(in); !slices.Equal(got, want) {
			t.Errorf("splitTop(%q) = %q, want %q", in, got, want)
		}
	}
}

// prefilterSpec has patterns of every shape the content uses: classes,
// counted repeats, anchors, optional parts, Japanese and English.
var prefilterSpec = Spec{Cues: []CueSpec{
	{ID: CueContact, Match: []string{`line|ライン`, `(?:^|[^\p{Han}a-z])番号(?:を|も)?教え`, `\byour (?:phone )?(?:number|cell)\b`},
		Except: []string{`line ?works`, `\bline (?:manager|up)\b`}},
	{ID: CueAsk, Match: []string{`教え|ください|[a-z][^?]*\?`, `\b(?:can|could) (?:i|you)\b`}},
	{ID: CueAgain, Match: []string{`もう(?:一度|1回)|やっぱ(?:り)?`, `\bagain\b`}},
	{ID: CueRush, Match: []string{`今すぐ|今日中|\b(?:asap|right now)\b`}},
	{ID: CueWork, Match: []string{`資料|会議|\b(?:client|report)s?\b`}},
	{ID: CueSoften, Match: []string{`(?:もし)?よかったら|無理(?:なら|しないで)`, `\bno worries(?: if not)?\b`}},
	{ID: CueReason, Match: []string{`なんで|\bwhy\b`}},
	{ID: CueRefusal, Match: []string{`だめ|[^a-z]ng(?:$|[^a-z])|\bno\b`}},
	{ID: CueMeeting, Match: []string{`(?:二人|2人)(?:だけ)?で[^。]{0,6}(?:飲み|ご飯)`, `x{2,}y`}},
}}

// FuzzPrefilter: skipping a pattern whose literals are absent never
// changes what the check finds.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"LINE教えて", "もう一度聞くけど、lineだめ？", "can you send your number asap?", "line works", "2人だけで飲み", "xxy", "ng", "番号を教えて", "社員番号を教えて"} {
		f.Add(s)
	}
	fast, errs := New(prefilterSpec)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	slow, _ := New(prefilterSpec)
	for _, c := range slow.cues {
		for i := range c.match {
			c.match[i].lits = nil
		}
		for i := range c.except {
			c.except[i].lits = nil
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b := fast.Check(s), slow.Check(s)
		if !slices.Equal(a.Hits, b.Hits) || !slices.Equal(a.IDs(), b.IDs()) {
			t.Fatalf("%q: with the prefilter %v %v, without %v %v", s, a.Hits, a.IDs(), b.Hits, b.IDs())
		}
	})
}

func TestRequiredLiterals(t *testing.T) {
	for p, want := range map[string][]string{
		`line|ライン`:                 {"line", "ライン"},
		`\byour (?:number|cell)\b`: {"your "},
		`(?:^|[^の])連絡先`:            {"連絡先"},
		`x*y?`:                     nil,
		`[a-z][^?]*\?`:             {"?"},
	} {
		pts, err := compilePattern(p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, pt := range pts {
			got = append(got, pt.lits...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: literals %q, want %q", p, got, want)
		}
	}
}

func TestLiteralIndex(t *testing.T) {
	lits := []string{"he", "she", "his", "hers", "ライン", "イン", "a", "line"}
	ix := newLiteralIndex(lits)
	for text, want := range map[string][]string{
		"ushers": {"he", "she", "hers"},
		"オンライン":  {"ライン", "イン"},
		"linea":  {"a", "line"},
		"":       nil,
		"xyz":    nil,
	} {
		var got []string
		for id, ok := range ix.find(text) {
			if ok {
				got = append(got, lits[id])
			}
		}
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			t.Errorf("%q: found %q, want %q", text, got, w)
		}
	}
}

// normalizeStrings is Normalize written with the string functions alone,
// as it was before it kept where each byte comes from (chat markup, read
// by steps that have only a mapped form, is read on text whose spans are
// not kept).
func normalizeStrings(d *Detector, draft string) string {
	unkept := func(s string) mapped { return mapped{s: s, start: make([]int32, len(s)), end: make([]int32, len(s))} }
	s := fold(draft)
	s = markup(unkept(s)).s
	s = strings.NewReplacer(quotePairs...).Replace(s)
	s = unmark(unkept(s)).s
	if len(d.pairs) > 0 {
		s = strings.NewReplacer(d.pairs...).Replace(s)
	}
	return unspace(squeeze(unkept(s))).s
}

// FuzzNormalizeMapped: keeping where each byte comes from changes nothing
// in the text the patterns read, and every byte comes from a span of the
// draft.
func FuzzNormalizeMapped(f *testing.F) {
	for _, s := range []string{"ＬＩＮＥ教えて？！", "ｶﾀｶﾅ　ＯＫﾊﾟﾊﾞ", "Give me UR number plz", "教えて🙏🙏下さい", "İSTANBUL ΣΑΣ", "a\u0301e\u0300", "\xff\xfeＡ", "’‘“”～", "👍🏻\u200d", "L I N E 交 換", "a b c d\ne f g h"} {
		f.Add(s)
	}
	d, errs := New(Spec{Replace: map[string]string{"🙏": " お願い ", "下さい": "ください", "頂け": "いただけ"}})
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := d.normalize(s)
		if want := normalizeStrings(d, s); m.s != want {
			t.Fatalf("%q: normalized %q, want %q", s, m.s, want)
		}
		if len(m.start) != len(m.s) || len(m.end) != len(m.s) {
			t.Fatalf("%q: %d bytes, %d/%d spans", s, len(m.s), len(m.start), len(m.end))
		}
		for i := range m.s {
			if m.start[i] < 0 || m.start[i] >= m.end[i] || int(m.end[i]) > len(s) {
				t.Fatalf("%q: byte %d from [%d, %d)", s, i, m.start[i], m.end[i])
			}
		}
	})
}

// TestWordSets: a set is read anywhere, at the start of a sentence, for
// where its last words end, or as all a text is made of; katakana as
// hiragana; a set the content lacks finds nothing.
func TestWordSets(t *testing.T) {
	d, errs := New(Spec{Sets: []CueSpec{
		{ID: "a", Match: []string{`でも|but `, `けど、`}},
		{ID: "f", Match: []string{`って|は`, `your|ok`}},
		{ID: "bad", Match: []string{`(`, `ok`}},
	}})
	if len(errs) != 1 || !errs[0].(PatternError).Set || errs[0].(PatternError).Cue != "bad" {
		t.Fatalf("errors %v, want the one bad pattern of set bad", errs)
	}
	a, f := d.set("a"), d.set("f")
	for _, c := range []struct {
		got, want bool
		what      string
	}{
		{a.in("行くけど、いい"), true, "in"},
		{a.in("デモ"), true, "in, katakana"},
		{a.in("行く"), false, "in, none"},
		{a.opens("でも行く"), true, "opens"},
		{a.opens("but sure"), true, "opens, en"},
		{a.opens("行くでも"), false, "opens, not at the start"},
		{f.fills("yourok"), true, "fills"},
		{f.fills("ッテハ"), true, "fills, katakana"},
		{f.fills(""), true, "fills, empty"},
		{f.fills("youok"), false, "fills, a word not in the set"},
		{f.fills("okx"), false, "fills, something after"},
		{d.set("bad").in("ok"), true, "the rest of a set with a bad pattern"},
		{d.set("none").in("でも"), false, "a set not given"},
		{d.set("none").opens("でも"), false, "a set not given"},
		{d.set("none").fills("x"), false, "a set not given"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if got := a.lastEnd("行くけど、でも来る"); got != len("行くけど、でも") {
		t.Errorf("lastEnd = %d, want %d", got, len("行くけど、でも"))
	}
	if got := d.set("none").lastEnd("でも"); got != -1 {
		t.Errorf("lastEnd of a set not given = %d, want -1", got)
	}
}

func TestQuotedLine(t *testing.T) {
	s := "hi\n> no thanks. sorry!\nok then?"
	for _, c := range []struct {
		start int
		want  bool
	}{{0, false}, {3, true}, {16, true}, {23, false}} {
		if got := quotedLine(s, c.start); got != c.want {
			t.Errorf("quotedLine(%q, %d) = %v, want %v", s, c.start, got, c.want)
		}
	}
}
