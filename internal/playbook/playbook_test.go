package playbook_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
	"go.yaml.in/yaml/v3"
)

// loadEmbedded is the built-in content, loaded once for the tests that
// read it: a library is read-only.
var loadEmbedded = sync.OnceValues(func() (*playbook.Library, error) { return playbook.Load(playbooks.FS) })

func embedded(t *testing.T) *playbook.Library {
	t.Helper()
	lib, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// TestLintReportsEveryProblemWithLine runs the lint on a folder broken on
// purpose: each problem must be reported at its file and line.
func TestLintReportsEveryProblemWithLine(t *testing.T) {
	problems := playbook.Lint(os.DirFS("testdata/bad"))
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"tips/alpha.yaml:12: title has no en text",
		"tips/alpha.yaml:16: duplicate tip id \"alpha-one\"",
		"tips/alpha.yaml:23: field colour not found",
		"tips/beta.yaml:1: topic \"gamma\" must be in a file named gamma.yaml",
		"tips/beta.yaml:3: audience \"bosses\"",
		"tips/beta.yaml:11: tip id \"Beta_Tip\"",
		"tips/beta.yaml:13: title.ja is 64 characters, over the limit of 60",
		"tips/beta.yaml:17: body.en is empty",
		"tips/beta.yaml:19: \"共通\" names topic \"gamma\" and also topic \"alpha\" (tips/alpha.yaml:25)",
		"tips/beta.yaml:19: alias \"・\" is empty",
		"tips/beta.yaml:20: \"ALPHA\" names topic \"gamma\" and also topic \"alpha\"",
		"phrasings/thanks.yaml:1: aliases has no ja words",
		"phrasings/thanks.yaml:8: polite has unknown language \"fr\"",
		"phrasings/thanks.yaml:11: polite.ja: unknown placeholder {name}",
		"phrasings/thanks.yaml:11: polite.en: unknown placeholder {name}",
		"tone/rules.yaml:2: cue \"contact\": pattern \"教えて(\"",
		"tone/rules.yaml:2: cue \"meeting\" is missing",
		"tone/rules.yaml:7: unknown cue \"nonsense\"",
		"tone/rules.yaml:11: flag \"no-way-out\" is missing",
		"tone/rules.yaml:14: flag \"repeat-ask\" offers \"thanks\", a way to ask",
		"tone/rules.yaml:14: flag \"repeat-ask\": offer names unknown situation \"nowhere\"",
		"tone/rules.yaml:18: set \"over\": pattern \"来た(\"",
		"tone/rules.yaml:21: unknown set \"elsewhere\"",
		"tone/rules.yaml:18: set \"home\" is missing",
		"tone/examples.yaml:2: example \"give me your number\": flags raised [] want [contact-ask]",
		"tone/examples.yaml:5: example names unknown flag \"missing-rule\"",
		"tone/examples.yaml:5: example \"hello there\": flags raised [] want [missing-rule]",
		"journeys/cooling.yaml:9: step \"cooling-day-7\" names unknown topic \"no-such-topic\"",
		"journeys/cooling.yaml:11: days must increase",
		"ui/ja.yaml:1: hello: placeholders [{name}] differ from the English []",
		"ui/ja.yaml:2: only.ja has no twin",
		"ui/ja.yaml:4: gone.msteams is the msteams form of gone, which does not exist",
		"ui/ja.yaml:5: hello.msteams: placeholder {user} is not one of hello's [{name}]",
		"ui/en.yaml:5: gone.msteams is the msteams form of gone, which does not exist",
		"ui/en.yaml:6: hello.msteams: placeholder {user} is not one of hello's []",
		"tips/alpha.yaml:7: notation: write ひとこと, not \"一言\" (style.yaml:2)",
		"style.yaml:5: notation \"nothing\": pattern \"(\"",
		"style.yaml:6: notation \"nothing\": lang \"xx\"",
		// What an allow pattern masks can make a word of what is left.
		"tips/alpha.yaml:8: notation: write masked words, not \"mary\" (style.yaml:8)",
		"style.yaml:14: endings.fields: \"title\" is not a tip field",
		"style.yaml:16: warning: ja: \"本文\" ends 3 of 3 tips' body (100%), over the 50% allowed",
		"ui/en.yaml:3: items: unknown plural form \"few\"",
		"ui/en.yaml:3: items has plural forms but no \"one\"",
		"ui/en.yaml:4: items.other does not show {count}",
	}
	for _, w := range want {
		file, rest, _ := strings.Cut(w, ":")
		line, msg, _ := strings.Cut(rest, ": ")
		found := slices.ContainsFunc(got, func(g string) bool {
			return strings.HasPrefix(g, file+":"+line+":") && strings.Contains(strings.ReplaceAll(g, ",", ""), strings.ReplaceAll(msg, ",", ""))
		})
		if !found {
			t.Errorf("missing problem %q", w)
		}
	}
	if t.Failed() {
		t.Logf("lint reported:\n%s", strings.Join(got, "\n"))
	}
	if _, err := playbook.Load(os.DirFS("testdata/bad")); err == nil {
		t.Fatal("Load accepted broken content")
	} else if le, ok := errors.AsType[*playbook.LintError](err); !ok {
		t.Fatalf("Load error = %v, want a LintError", err)
	} else {
		// Load reports every problem of the lint but the examples the tone
		// check gets wrong: those run in the lint only.
		for _, p := range le.Problems {
			if !slices.Contains(got, p.String()) {
				t.Errorf("Load reports %q, which the lint does not", p)
			}
		}
		// and its warning, which Load leaves out too.
		if n := len(problems) - len(le.Problems); n != 3 {
			t.Errorf("Load reports %d problems, the lint %d: want the lint's two failing examples and its warning more", len(le.Problems), len(problems))
		}
	}
}

// TestToneRulesNeedEverySet: rules without a word set the check reads
// are refused, by the lint and by Load, naming the set.
func TestToneRulesNeedEverySet(t *testing.T) {
	src, err := fs.ReadFile(playbooks.FS, "tone/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	var sets *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sets" {
			sets = root.Content[i+1]
		}
	}
	if sets == nil {
		t.Fatal("tone/rules.yaml has no sets")
	}
	// Drop the set the check reads first.
	drop := -1
	for i, n := range sets.Content {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "id" && n.Content[j+1].Value == tone.Sets[0] {
				drop = i
			}
		}
	}
	if drop < 0 {
		t.Fatalf("tone/rules.yaml has no set %q", tone.Sets[0])
	}
	sets.Content = slices.Delete(sets.Content, drop, drop+1)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	fsys := contentWith(t, map[string][]byte{"tone/rules.yaml": out, "tone/examples.yaml": everyExample(t, 80)})
	want := fmt.Sprintf("set %q is missing", tone.Sets[0])
	if _, err := playbook.Load(fsys); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load of rules without set %q: %v, want %q", tone.Sets[0], err, want)
	}
	if !slices.ContainsFunc(playbook.Lint(fsys), func(p playbook.Problem) bool { return strings.Contains(p.String(), want) }) {
		t.Errorf("the lint does not report %q", want)
	}
}

// TestEmbeddedContent is the lint of the content shipped in the binary:
// it must be clean, complete and within the counts the product promises.
// Under the race detector it runs every exampleStride-th tone example
// (make test-tone runs them all).
func TestEmbeddedContent(t *testing.T) {
	fsys := fs.FS(playbooks.FS)
	if exampleStride > 1 {
		fsys = contentWith(t, map[string][]byte{"tone/examples.yaml": everyExample(t, exampleStride)})
	}
	for _, p := range playbook.Lint(fsys) {
		t.Error(p)
	}
	lib := embedded(t)
	st := lib.Stats()
	for _, lang := range []string{"ja", "en"} {
		if n := st.Languages[lang].Tips; n < 200 {
			t.Errorf("%s: %d tips, want at least 200", lang, n)
		}
		if n := st.Languages[lang].Phrasings; n < 18*4 {
			t.Errorf("%s: %d phrasings, want at least 72", lang, n)
		}
	}
	if len(st.Topics) < 25 {
		t.Errorf("%d topics, want 25", len(st.Topics))
	}
	for topic, n := range st.Topics {
		if n < 8 {
			t.Errorf("topic %s has %d tips, want at least 8", topic, n)
		}
	}
	if len(st.Situations) < 18 {
		t.Errorf("%d situations, want at least 18", len(st.Situations))
	}
	for sit, n := range st.Situations {
		if n < 4 {
			t.Errorf("situation %s has %d phrasings, want at least 4", sit, n)
		}
	}
	for _, lang := range []string{"ja", "en"} {
		if st.Examples[lang] < 30 {
			t.Errorf("%d tone examples in %s, want at least 30", st.Examples[lang], lang)
		}
	}
}

// TestToneExamples: the examples (run by the lint in TestEmbeddedContent)
// must show, in each language, drafts that the check leaves clean.
func TestToneExamples(t *testing.T) {
	lib := embedded(t)
	clean := map[string]int{}
	for _, e := range lib.Examples {
		if !slices.ContainsFunc(e.Flags, tone.Pressure) {
			clean[e.Lang]++
		}
	}
	for _, lang := range []string{"ja", "en"} {
		if clean[lang] < 5 {
			t.Errorf("only %d clean %s examples: the check must be shown not to flag ordinary messages", clean[lang], lang)
		}
	}
}

// TestWarningsDoNotStopLoading: content whose only problems are warnings
// (here: an ending limit no content could meet) loads, and Lint still
// reports them.
// Every draft of the tone corpus appears once across its files, as its
// README promises: a draft in two parts would be tuned on and measured
// at once, or counted twice.
func TestCorpusTextsAppearOnce(t *testing.T) {
	where := map[string]string{}
	for _, split := range []string{playbook.Train, playbook.Dev, playbook.Retired, playbook.Fresh, playbook.Holdout} {
		samples, err := playbook.LoadCorpus(playbooks.FS, split)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			text := strings.TrimSpace(s.Text)
			if first, ok := where[text]; ok {
				t.Errorf("%s repeats %s: %q", s.Where, first, text)
				continue
			}
			where[text] = s.Where
		}
	}
}

func TestWarningsDoNotStopLoading(t *testing.T) {
	fsys := contentWith(t, map[string][]byte{"tone/examples.yaml": everyExample(t, 80)})
	style := string(fsys["style.yaml"].Data)
	style = regexp.MustCompile(`max_share: [0-9.]+`).ReplaceAllString(style, "max_share: 0.01")
	fsys["style.yaml"] = &fstest.MapFile{Data: []byte(style)}
	problems := playbook.Lint(fsys)
	if len(problems) == 0 {
		t.Fatal("no warning for a 1% ending limit")
	}
	for _, p := range problems {
		if !p.Warn || !strings.Contains(p.String(), "warning: ") {
			t.Errorf("not a warning: %s", p)
		}
	}
	if _, err := playbook.Load(fsys); err != nil {
		t.Fatalf("warnings stopped the content from loading: %v", err)
	}
}

func TestPlural(t *testing.T) {
	lib := embedded(t)
	for _, tc := range []struct {
		lang       trustbot.Lang
		key, count string
		want       string
	}{
		{trustbot.English, "check.flagged", "1", "1 thing to look at"},
		{trustbot.English, "check.flagged", "3", "3 things to look at"},
		{trustbot.Japanese, "check.flagged", "3", "気になる点が3つあります"},
		{trustbot.English, "history.streak", "0", "Your latest check-in has no answer yet"},
		{trustbot.English, "history.streak", "1", "You answered your latest check-in"},
		{trustbot.English, "history.streak", "12", "You've reflected 12 times in a row."},
		{trustbot.Japanese, "history.streak", "2", "2回続けて振り返っています。"},
	} {
		if got := lib.T(tc.lang, tc.key, "count", tc.count); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s %s count=%s: %q, want %q", tc.lang, tc.key, tc.count, got, tc.want)
		}
	}
}

// TestCatalogTypography: English counts use plural forms, never "(s)";
// Japanese puts no space between a number and its counter (3つ, 7日目).
func TestCatalogTypography(t *testing.T) {
	lib := embedded(t)
	spaced := regexp.MustCompile(`\}\s+(つ|日|回|問|件|か月|文字|人|週)|[0-9]\s+(つ|日目|回|件|か月)`)
	for _, k := range lib.Keys() {
		for _, n := range []string{"0", "1", "2"} {
			if en := lib.T(trustbot.English, k, "count", n); strings.Contains(en, "(s)") {
				t.Errorf("en %s: %q: use plural forms", k, en)
			}
			if ja := lib.T(trustbot.Japanese, k, "count", n); spaced.MatchString(ja) {
				t.Errorf("ja %s: %q: no space between a number and its counter", k, ja)
			}
		}
	}
}

func TestFoldDraft(t *testing.T) {
	for in, want := range map[string]string{
		"ＬＩＮＥ教えて":  "line教えて",
		"Give Me":  "give me",
		"ｶﾀｶﾅ":     "カタカナ",
		"０９０－１２３４": "090-1234",
	} {
		if got := playbook.FoldDraft(in); got != want {
			t.Errorf("FoldDraft(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWarningsDoNotStopLoading: content whose only problems are warnings
// (here: an ending limit no content could meet) loads, and Lint still
// reports them.

func TestT(t *testing.T) {
	lib := embedded(t)
	if got := lib.T(trustbot.English, "help.unknown", "word", "tipp"); !strings.Contains(got, `"tipp"`) {
		t.Errorf("placeholder not filled: %q", got)
	}
	if got := lib.T(trustbot.Japanese, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q, want the key itself", got)
	}
	for _, k := range lib.Keys() {
		for _, l := range trustbot.Langs {
			if s := lib.T(l, k); !utf8.ValidString(s) || s == "" {
				t.Errorf("%s/%s: %q", l, k, s)
			}
		}
	}
}

// TestEveryNameReachesItsOwner: each ID, title and alias of the shipped
// content, typed as it is, finds its own topic or situation and no other.
func TestEveryNameReachesItsOwner(t *testing.T) {
	lib := embedded(t)
	n := 0
	for _, tp := range lib.Topics {
		names := []string{tp.ID, tp.Title.In(trustbot.Japanese), tp.Title.In(trustbot.English)}
		for _, words := range tp.Aliases {
			names = append(names, words...)
		}
		for _, name := range names {
			n++
			if got := lib.FindTopics(name); len(got) != 1 || got[0] != tp {
				t.Errorf("topic name %q finds %v, want %s", name, topicIDs(got), tp.ID)
			}
		}
	}
	for _, s := range lib.Situations {
		names := []string{s.ID, s.Title.In(trustbot.Japanese), s.Title.In(trustbot.English)}
		for _, words := range s.Aliases {
			names = append(names, words...)
		}
		for _, name := range names {
			n++
			if got := lib.FindSituations(name); len(got) != 1 || got[0] != s {
				t.Errorf("situation name %q finds %d situations, want %s", name, len(got), s.ID)
			}
		}
	}
	if n < 4*(len(lib.Topics)+len(lib.Situations)) {
		t.Errorf("only %d names for %d topics and situations", n, len(lib.Topics)+len(lib.Situations))
	}
}

func TestFindLoosely(t *testing.T) {
	lib := embedded(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"ＣＯＯＬＩＮＧ－ＯＦＦ", []string{"cooling-period"}},          // full-width, punctuation
		{"Cooling Off", []string{"cooling-period"}},          // case, space for hyphen
		{"LINE断られた", []string{"declined-not-about-you"}},     // an alias inside a phrase
		{"修復したい", []string{"repairing-trust"}},               // the same, in Japanese
		{"I want to say sorry", []string{"repairing-trust"}}, // a Latin alias as a whole word
		{"managr", []string{"managers"}},                     // a typo
		{"冷却期", []string{"cooling-period"}},                  // part of a name
		{"xyzzy", nil},
		{"   ", nil},
	} {
		if got := topicIDs(lib.FindTopics(tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("FindTopics(%q) = %v, want %v", tc.query, got, tc.want)
		}
	}
	// A Latin alias inside another word does not count: "help" is an
	// alias of small-support, "helpful" is not.
	if got := topicIDs(lib.FindTopics("unhelpfulness")); slices.Contains(got, "small-support") {
		t.Errorf("a Latin alias matched inside a word: %v", got)
	}
	// Several matches come back in topic order.
	got := lib.FindSituations("フィードバック")
	if len(got) != 2 || got[0].ID != "ask-feedback" || got[1].ID != "give-feedback" {
		t.Errorf("FindSituations(フィードバック) = %d situations, want ask-feedback and give-feedback", len(got))
	}
}

// A topic menu searched as one types: everything before a letter is
// typed, then what FindTopics names, then names that begin with or hold
// what is typed, even one letter; each topic once.
func TestSuggestTopics(t *testing.T) {
	lib := embedded(t)
	if got := lib.SuggestTopics("  "); len(got) != len(lib.Topics) || got[0] != lib.Topics[0] {
		t.Errorf("nothing typed: %v", topicIDs(got))
	}
	for _, tc := range []struct {
		query string
		first string
	}{
		{"修復", "repairing-trust"},    // an alias, not the title
		{"謝", "repairing-trust"},     // one character of an alias
		{"sorry", "repairing-trust"}, // an English alias
		{"ｍａｎ", "managers"},          // full-width, the beginning of a name
		{"cool", "cooling-period"},
	} {
		got := topicIDs(lib.SuggestTopics(tc.query))
		if len(got) == 0 || got[0] != tc.first {
			t.Errorf("SuggestTopics(%q) = %v, want %s first", tc.query, got, tc.first)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("SuggestTopics(%q) lists %s twice", tc.query, id)
			}
			seen[id] = true
		}
	}
	if got := lib.SuggestTopics("xyzzy"); len(got) != 0 {
		t.Errorf("SuggestTopics(xyzzy) = %v", topicIDs(got))
	}
}

func topicIDs(ts []*playbook.Topic) []string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}
