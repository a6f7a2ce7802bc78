package coach_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/trustbot/trustbot/internal/coach"
)

// TestFoldASCII: text in ASCII, which Fold does not pass through width
// folding, folds as it would through it: every character alone, and
// words of them.
func TestFoldASCII(t *testing.T) {
	var all strings.Builder
	for c := range byte(utf8.RuneSelf) {
		s := string(rune(c))
		all.WriteString(s)
		if got, want := coach.Fold(s), strings.ToLower(width.Fold.String(s)); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{all.String(), "Tip Keeping-Promises", "CHECKIN weekly MON 09:00", ""} {
		if got, want := coach.Fold(s), strings.ToLower(width.Fold.String(s)); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	if got := coach.Fold("ＴＩＰ ﾃｽﾄ"); got != "tip テスト" {
		t.Errorf("Fold of full-width letters and half-width katakana = %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in    string
		name  string
		known bool
		args  []string
		rest  string
	}{
		{"", "", false, nil, ""},
		{"   ", "", false, nil, ""},
		{"help", "help", true, nil, ""},
		{"HELP", "help", true, nil, ""},
		{"ヘルプ", "help", true, nil, ""},
		{"使い方", "help", true, nil, ""},
		{"tip", "tip", true, nil, ""},
		{"Tip Cooling-Period", "tip", true, []string{"cooling-period"}, "Cooling-Period"},
		{"ヒント　冷却期間", "tip", true, []string{"冷却期間"}, "冷却期間"},
		{"ｔｉｐ　ｃｏｏｌｉｎｇ", "tip", true, []string{"cooling"}, "ｃｏｏｌｉｎｇ"},
		{"言い方 thanks", "phrase", true, []string{"thanks"}, "thanks"},
		{"フレーズ", "phrase", true, nil, ""},
		{"check LINE教えて！", "check", true, []string{"line教えて!"}, "LINE教えて！"},
		{"チェック  Can we   swap LINE?\nThanks", "check", true, []string{"can", "we", "swap", "line?", "thanks"}, "Can we   swap LINE?\nThanks"},
		{"言語 en", "lang", true, []string{"en"}, "en"},
		{"LANG JA", "lang", true, []string{"ja"}, "JA"},
		{"tpi", "tpi", false, nil, ""},
		{"\x00tip\x1b", "tip", true, nil, ""},
		{"tip \xff\xfe", "tip", true, []string{"\ufffd"}, "\ufffd"},
	} {
		c := coach.Parse(tc.in)
		if c.Name != tc.name || c.Known != tc.known || !slices.Equal(c.Args, tc.args) || c.Rest != tc.rest {
			t.Errorf("Parse(%q) = %q known=%v args=%q rest=%q; want %q %v %q %q", tc.in, c.Name, c.Known, c.Args, c.Rest, tc.name, tc.known, tc.args, tc.rest)
		}
	}
}

func TestParseLongInput(t *testing.T) {
	c := coach.Parse("check " + strings.Repeat("a", 10_000))
	if !c.Truncated || c.Name != "check" {
		t.Fatalf("10,000 characters: truncated=%v name=%q", c.Truncated, c.Name)
	}
	if n := utf8.RuneCountInString(c.Rest); n != coach.MaxInput-len("check ") {
		t.Fatalf("rest has %d characters", n)
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"tpi": "tip", "hlep": "help", "chek": "check", "phrse": "phrase", "lnag": "lang",
		"ひんど": "tip", "zzzzz": "", "x": "",
	} {
		if got := coach.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "help", "ｔｉｐ　ｃｏｏｌｉｎｇ", "check LINE教えて", "\xff", "言い方\u3000thanks", "TZ=", "CRON_TZ=UTC", "\u2028\u2029\ufeff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := coach.Parse(s)
		for _, part := range append([]string{c.Name, c.Word, c.Rest}, c.Args...) {
			if !utf8.ValidString(part) {
				t.Fatalf("Parse(%q): invalid UTF-8 in %q", s, part)
			}
			for _, r := range part {
				if unicode.IsControl(r) && r != '\n' && r != '\t' {
					t.Fatalf("Parse(%q): control character %U kept", s, r)
				}
			}
		}
		if utf8.RuneCountInString(c.Rest) > coach.MaxInput {
			t.Fatalf("Parse(%q): rest over the limit", s)
		}
		if c.Known && c.Word == "" {
			t.Fatalf("Parse(%q): known command without a word", s)
		}
		_ = coach.Suggest(c.Word)
	})
}
