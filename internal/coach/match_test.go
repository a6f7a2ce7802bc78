package coach_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// shownTopic returns the topic of the tip a reply shows ("" for none).
func shownTopic(r trustbot.Reply) string {
	for _, c := range controls(r) {
		if c.ID == coach.ActTipTopic && c.Initial != "" {
			return c.Initial
		}
	}
	return ""
}

// shownSituation returns the situation whose phrasings a reply shows.
func shownSituation(r trustbot.Reply) string {
	for _, c := range controls(r) {
		if c.ID == coach.ActPhrase && c.Initial != "" {
			return c.Initial
		}
	}
	return ""
}

// TestNaturalQueries types what people would type after /trust tip and
// /trust phrase, in both languages, and checks where each lands.
func TestNaturalQueries(t *testing.T) {
	c := MustCoach(t, "ja-JP")
	for _, tc := range []struct{ text, topic string }{
		{"ヒント 修復", "repairing-trust"},
		{"ヒント 謝罪", "repairing-trust"},
		{"ヒント 謝りたい", "repairing-trust"},
		{"ヒント 信頼回復", "repairing-trust"},
		{"ヒント 冷却期間", "cooling-period"},
		{"ヒント 距離を置く", "cooling-period"},
		{"ヒント LINE断られた", "declined-not-about-you"},
		{"ヒント ＬＩＮＥ　断られた", "declined-not-about-you"},
		{"ヒント 断られた直後", "right-after-declined"},
		{"ヒント 飲み会", "events"},
		{"ヒント 報連相", "everyday-work"},
		{"ヒント 部下", "managers"},
		{"ヒント 雑談", "small-talk"},
		{"ヒント お客様", "clients"},
		{"ヒント もう一度聞く", "re-approaching"},
		{"ヒント 落ち込む", "self-compassion"},
		{"tip sorry", "repairing-trust"},
		{"tip apology", "repairing-trust"},
		{"tip repair", "repairing-trust"},
		{"tip cooling off", "cooling-period"},
		{"tip Cooling-Off", "cooling-period"},
		{"tip manager", "managers"},
		{"tip micromanaging", "micromanagement"},
		{"tip small talk", "small-talk"},
		{"tip rejected", "declined-not-about-you"},
		{"tip body language", "nonverbal"},
		{"tip ask again", "re-approaching"},
		{"tip clients", "clients"},
	} {
		if got := shownTopic(command(c, tc.text)); got != tc.topic {
			t.Errorf("%q shows topic %q, want %q", tc.text, got, tc.topic)
		}
	}
	for _, tc := range []struct{ text, situation string }{
		{"フレーズ 謝罪", "apology-repair"},
		{"フレーズ 謝りたい", "apology-repair"},
		{"言い方 修復", "apology-repair"},
		{"フレーズ LINE断られた", "after-declined-light"},
		{"フレーズ 断りたい", "decline-contact-kindly"},
		{"フレーズ LINEを断る", "decline-contact-kindly"},
		{"フレーズ お礼", "thanks"},
		{"フレーズ 1on1", "one-on-one-opening"},
		{"フレーズ 飲み会のあと", "event-follow-up"},
		{"phrase sorry", "apology-repair"},
		{"phrase apology", "apology-repair"},
		{"phrase repair", "apology-repair"},
		{"phrase thank you", "thanks"},
		{"phrase bad news", "bad-news-early"},
		{"phrase decline", "decline-contact-kindly"},
		{"phrase they said no", "after-declined-light"},
		{"phrase one-on-one", "one-on-one-opening"},
	} {
		if got := shownSituation(command(c, tc.text)); got != tc.situation {
			t.Errorf("%q shows situation %q, want %q", tc.text, got, tc.situation)
		}
	}
	// A word that fits several topics or situations lists them and shows
	// none; the menu still offers every one.
	r := command(c, "フレーズ フィードバック")
	if got := shownSituation(r); got != "" {
		t.Errorf("an ambiguous word showed %q", got)
	}
	for _, id := range []string{"ask-feedback", "give-feedback"} {
		if !strings.Contains(all(r), "("+id+")") {
			t.Errorf("ambiguous word: %s not listed in %q", id, all(r))
		}
	}
}

// readmeExample is a row of the README's table of matching examples:
// commands in backticks, then the ID they must reach in backticks.
var readmeExample = regexp.MustCompile("`(/trust [^`]+)`")

// TestReadmeExamples: every example the README gives of loose matching
// reaches the topic or situation it names.
func TestReadmeExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	c := MustCoach(t, "en-US")
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || !strings.Contains(cells[1], "`/trust ") {
			continue
		}
		id := regexp.MustCompile("\\(`([a-z0-9-]+)`\\)").FindStringSubmatch(cells[2])
		if id == nil {
			continue
		}
		for _, m := range readmeExample.FindAllStringSubmatch(cells[1], -1) {
			text := strings.TrimPrefix(m[1], "/trust ")
			r := command(c, text)
			got := shownTopic(r)
			if got == "" {
				got = shownSituation(r)
			}
			if got != id[1] {
				t.Errorf("README: %q reaches %q, want %q", m[1], got, id[1])
			}
			n++
		}
	}
	if n < 8 {
		t.Fatalf("found %d examples in the README: the table moved or the scan is broken", n)
	}
}

// TestPoliteOnlyNoteSaidOnce: in the casual view, a phrasing with no
// casual form gets the interface's "polite only" mark; its own note must
// not say so again.
func TestPoliteOnlyNoteSaidOnce(t *testing.T) {
	lib := MustLibrary(t)
	said := map[trustbot.Lang]*regexp.Regexp{
		trustbot.Japanese: regexp.MustCompile(`丁寧な(言い方|形|表現)(だけ|のみ)`),
		trustbot.English:  regexp.MustCompile(`(?i)polite (form|version|wording) only|only (a )?polite`),
	}
	for _, s := range lib.Situations {
		for _, p := range s.Phrasings {
			if p.HasCasual() {
				continue
			}
			for lang, re := range said {
				if note := p.Note.In(lang); re.MatchString(note) {
					t.Errorf("%s: the %s note says it is polite only, and the casual view adds that too: %q", p.ID, lang, note)
				}
			}
		}
	}
}
