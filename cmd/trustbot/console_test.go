package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestConsoleFollowsTheTerminalLocale: without --lang the first screen is
// in the terminal's language (LC_ALL, then LC_MESSAGES, then LANG) and
// names the other language's switch.
func TestConsoleFollowsTheTerminalLocale(t *testing.T) {
	lib := mustLibrary(t)
	for i, tc := range []struct {
		env  map[string]string
		want trustbot.Lang
	}{
		{map[string]string{"LANG": "en_US.UTF-8"}, trustbot.English},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, trustbot.Japanese},
		{map[string]string{"LANG": "C.UTF-8"}, trustbot.English},
		{map[string]string{"LANG": "en_GB.UTF-8", "LC_MESSAGES": "ja_JP.UTF-8"}, trustbot.Japanese},
		{map[string]string{"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, trustbot.English},
		{map[string]string{"LANG": "de_DE.UTF-8", "TRUSTBOT_DEFAULT_LANG": "en"}, trustbot.English},
		{map[string]string{}, trustbot.Japanese},
	} {
		tc.env["TRUSTBOT_DB"] = newDB(t)
		code, out, stderr := runCmd(t, tc.env, "help\n", "console")
		if code != 0 {
			t.Fatalf("%d: exit %d: %s", i, code, stderr)
		}
		other := trustbot.English
		if tc.want == trustbot.English {
			other = trustbot.Japanese
		}
		first, _, _ := strings.Cut(out, "\n\n")
		for _, want := range []string{lib.T(tc.want, "console.welcome", "user", "UCONSOLE"), lib.T(tc.want, "console.other_lang"), lib.T(tc.want, "help.title")} {
			if !strings.Contains(out, want) {
				t.Errorf("%d %v: lacks %q:\n%s", i, tc.env, want, out)
			}
		}
		if strings.Contains(first, lib.T(other, "console.welcome", "user", "UCONSOLE")) {
			t.Errorf("%d: the first screen mixes languages:\n%s", i, first)
		}
		// The switch it names works.
		if !strings.Contains(lib.T(tc.want, "console.other_lang"), "lang "+string(other)) {
			t.Errorf("%d: the first screen does not name lang %s", i, other)
		}
	}
}

// TestConsoleSession: a Japanese session switches to English, and what
// follows is English (the DM's header included); a second "checkin now"
// in the same minute says why nothing more comes; piped output has no
// terminal codes and no raw Slack formatting.
func TestConsoleSession(t *testing.T) {
	lib := mustLibrary(t)
	env := map[string]string{"TRUSTBOT_DB": newDB(t), "LANG": "ja_JP.UTF-8"}
	code, out, stderr := runCmd(t, env, "help\nlang en\ncheckin now\ncheckin now\nhistory\n", "console", "--now", "2026-12-01T09:00", "--tz", "Asia/Tokyo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, en, _ := strings.Cut(out, lib.T(trustbot.English, "lang.saved", "setting", lib.T(trustbot.English, "lang.name.en")))
	if !anyMinute(lib.T(trustbot.English, "console.dm", "time", "2026-12-01 (Tuesday) 09:00"), "09:00").MatchString(en) {
		t.Errorf("after lang en, no DM at 09:00:\n%s", en)
	}
	for _, want := range []string{
		lib.Checkin.Title.In(trustbot.English),
		lib.T(trustbot.English, "checkin.already_now"),
	} {
		if !strings.Contains(en, want) {
			t.Errorf("after lang en, lacks %q:\n%s", want, en)
		}
	}
	// The Japanese clock line writes its brackets full-width, the
	// English one half-width.
	ja, _, _ := strings.Cut(out, "\n\n")
	if !anyMinute("2026-12-01（火曜日）09:00（Asia/Tokyo）", "09:00").MatchString(ja) || strings.ContainsAny(ja, "()") {
		t.Errorf("the Japanese clock line mixes bracket widths:\n%s", ja)
	}
	if n := strings.Count(out, "── DM from trustbot"); n != 1 {
		t.Errorf("%d DMs for two \"checkin now\" in one minute, want 1", n)
	}
	if strings.Contains(en, "trustbot からのDM") {
		t.Error("the DM header stayed Japanese after lang en")
	}
	for _, raw := range []string{"*`", "`*", "\x1b[", "`▇", "`·"} {
		if strings.Contains(out, raw) {
			t.Errorf("raw formatting %q in the console:\n%s", raw, out)
		}
	}
}

// TestConsoleLeavesTypedMarkup: stars, backticks and links a user typed
// (an unknown word, a journey's label) are shown as typed, while the
// coach's own formatting is rendered.
func TestConsoleLeavesTypedMarkup(t *testing.T) {
	lib := mustLibrary(t)
	env := map[string]string{"TRUSTBOT_DB": newDB(t)}
	const label = "*A-san* `x` <https://x.example|y>"
	code, out, stderr := runCmd(t, env, "*hi*\ndeclined "+label+"\njourneys\n", "console", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := lib.T(trustbot.English, "help.unknown", "word", "*hi*"); !strings.Contains(out, want) {
		t.Errorf("the unknown word is not shown as typed (%q):\n%s", want, out)
	}
	if n := strings.Count(out, label); n < 2 {
		t.Errorf("the label is shown as typed %d times, want the reply and the list:\n%s", n, out)
	}
	for _, raw := range []string{"*`", "`*", "`▇", "\x1c", "\x1e"} {
		if strings.Contains(out, raw) {
			t.Errorf("the coach's formatting or a mark shown raw (%q):\n%s", raw, out)
		}
	}
}

// TestConsoleClock: "advance" moves the console's clock, and what falls
// due meanwhile arrives: the check-in, the journey's follow-ups and the
// channel's tip of the week.
// anyMinute matches text with the minutes of at (a time in it, "09:00")
// free: the console's clock runs from --now as time passes, and under a
// slow start (the race detector on a loaded machine) a minute or more may
// have gone by when a line is printed.
func anyMinute(text, at string) *regexp.Regexp {
	return regexp.MustCompile(strings.Replace(regexp.QuoteMeta(text), regexp.QuoteMeta(at), regexp.QuoteMeta(at[:len(at)-2])+`[0-5]\d`, 1))
}

func TestConsoleClock(t *testing.T) {
	lib := mustLibrary(t)
	env := map[string]string{"TRUSTBOT_DB": newDB(t)}
	in := "checkin weekly fri 16:00\ndeclined\nweekly on\nadvance 3d\nadvance 4d\nadvance 99d\n"
	code, out, stderr := runCmd(t, env, in, "console", "--lang", "en", "--tz", "Asia/Tokyo", "--now", "2026-12-01T09:00")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	moved := anyMinute(lib.T(trustbot.English, "console.advanced", "time", "2026-12-04 (Friday) 09:00", "zone", "Asia/Tokyo"), "09:00").FindStringIndex(out)
	if moved == nil {
		t.Fatalf("advance 3d did not move the clock to Friday 09:00:\n%s", out)
	}
	first := out[:moved[0]]
	if strings.Contains(first, "── DM from trustbot") {
		t.Fatalf("something was delivered before its time:\n%s", first)
	}
	for _, want := range []string{
		lib.T(trustbot.English, "console.dm", "time", "2026-12-04 (Friday) 16:00"), // the weekly check-in
		lib.Checkin.Title.In(trustbot.English),
		lib.T(trustbot.English, "console.channel_post", "channel", consoleChannel, "time", "2026-12-07 (Monday) 09:00"), // the tip of the week
		lib.T(trustbot.English, "console.advance_usage"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	// The cooling-off journey's first follow-up comes on day 3, at 10:00.
	if !strings.Contains(out, lib.T(trustbot.English, "console.dm", "time", "2026-12-04 (Friday) 10:00")) {
		t.Errorf("no journey follow-up on day 3:\n%s", out)
	}
	if code, _, _ := runCmd(t, env, "", "console", "--now", "tomorrow"); code != 2 {
		t.Errorf("--now tomorrow: exit %d, want 2", code)
	}
}

// TestConsoleBracketsFollowTheLanguage: the console's own brackets around
// a section's or an example's title are full-width in Japanese and
// half-width in English.
func TestConsoleBracketsFollowTheLanguage(t *testing.T) {
	lib := mustLibrary(t)
	env := map[string]string{"TRUSTBOT_DB": newDB(t)}
	code, out, stderr := runCmd(t, env, "フレーズ 謝罪\nヒント\nlang en\nphrase sorry\ntip\n", "console", "--lang", "ja")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ja, en, ok := strings.Cut(out, lib.T(trustbot.English, "lang.saved", "setting", lib.T(trustbot.English, "lang.name.en")))
	if !ok {
		t.Fatalf("lang en not confirmed:\n%s", out)
	}
	sit, _ := lib.Situation("apology-repair")
	note := sit.Phrasings[0].Note
	if !strings.Contains(ja, "  （"+note.In(trustbot.Japanese)+"）\n") || !strings.Contains(en, "  ("+note.In(trustbot.English)+")\n") {
		t.Errorf("an example's title is not in its language's brackets:\n%s", out)
	}
	if !strings.Contains(ja, "【") || strings.Contains(ja, "\n  (") {
		t.Errorf("the Japanese titles mix half-width brackets in:\n%s", ja)
	}
	if strings.ContainsAny(en, "【】（）") {
		t.Errorf("the English titles have full-width brackets:\n%s", en)
	}
}
