package coach_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestParseStripsTrustPrefix(t *testing.T) {
	for _, tc := range []struct{ text, name, rest string }{
		{"/trust help", "help", ""},
		{"／ｔｒｕｓｔ　ｈｅｌｐ", "help", ""},
		{"/TRUST check LINE教えて", "check", "LINE教えて"},
		{"／ｔｒｕｓｔ", "", ""},
		{"ｃｈｅｃｋ　下書き", "check", "下書き"},
	} {
		c := coach.Parse(tc.text)
		if c.Name != tc.name || c.Rest != tc.rest || tc.name != "" && !c.Known {
			t.Errorf("Parse(%q) = %q %q (known %v), want %q %q", tc.text, c.Name, c.Rest, c.Known, tc.name, tc.rest)
		}
	}
}

// Full-width letters, digits, slash and spaces read like their half-width
// forms in every command.
func TestFullWidthEverywhere(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	for _, tc := range [][2]string{
		{"／ｔｒｕｓｔ　ｈｅｌｐ", lib.T(trustbot.English, "help.title")},
		{"ｃｈｅｃｋｉｎ　ｗｅｅｋｌｙ　ｆｒｉ　１６：００", "every Friday at 16:00"},
		{"ｗｏｒｋｄａｙｓ　ｍｏｎ－ｆｒｉ", "Days: Mon, Tue, Wed, Thu, Fri"},
		{"ｑｕｉｅｔ　２２：００－０８：００", "Quiet hours: 22:00–08:00"},
		{"ｈｏｌｉｄａｙｓ　ｏｆｆ", "Skipping Japanese public holidays: off"},
		{"ｐａｕｓｅ　２ｗ", "DMs are paused until"},
		{"ｃｈｅｃｋｉｎ　ｓｔａｔｕｓ", "every Friday at 16:00"},
	} {
		if got := all(e.cmd(user, tc[0])); !strings.Contains(got, tc[1]) {
			t.Errorf("%q: reply lacks %q: %q", tc[0], tc[1], got)
		}
	}
}

// One table of argument words serves every command: "確認" is status for
// check-ins, plans and a channel's tip of the week alike, even where only
// admins may change things.
func TestArgumentWordsAreShared(t *testing.T) {
	e := newCheckinEnv(t)
	e.c.Admins = []string{"UADMIN"}
	lib := MustLibrary(t)
	inChannel := func(u, text string) trustbot.Reply {
		return e.c.Handle(context.Background(), trustbot.Request{Kind: trustbot.Command, UserKey: trustbot.UserKey{Team: user.Team, User: u}, Channel: "C1", Text: text})
	}
	notAdmin := lib.T(trustbot.English, "weekly.not_admin")
	for _, w := range []string{"status", "確認", "状態", "設定", "ＳＴＡＴＵＳ", "かくにん"} {
		if coach.Word(coach.Fold(w)) != coach.WordStatus {
			t.Errorf("Word(%q) = %q, want status", w, coach.Word(coach.Fold(w)))
		}
		if got := all(inChannel("U2", "weekly "+w)); strings.Contains(got, notAdmin) || !strings.Contains(got, lib.T(trustbot.English, "weekly.none")) {
			t.Errorf("weekly %s by a member: %q", w, got)
		}
		if got := all(e.cmd(user, "checkin "+w)); !strings.Contains(got, lib.T(trustbot.English, "checkin.none")) {
			t.Errorf("checkin %s: %q", w, got)
		}
		if got := all(e.cmd(user, "plan "+w)); !strings.Contains(got, lib.T(trustbot.English, "journey.list_title")) {
			t.Errorf("plan %s: %q", w, got)
		}
	}
	for _, w := range []string{"off", "stop", "停止", "やめる", "終了", "オフ"} {
		if coach.Word(coach.Fold(w)) != coach.WordOff {
			t.Errorf("Word(%q) = %q, want off", w, coach.Word(coach.Fold(w)))
		}
		e.cmd(user, "checkin weekly")
		if got := all(e.cmd(user, "checkin "+w)); !strings.Contains(got, lib.T(trustbot.English, "checkin.off")) {
			t.Errorf("checkin %s: %q", w, got)
		}
		if got := all(inChannel("U2", "weekly "+w)); !strings.Contains(got, notAdmin) {
			t.Errorf("weekly %s by a member who is not an admin was not refused: %q", w, got)
		}
	}
	for _, w := range []string{"again", "また", "もう一度", "２回目"} {
		if coach.Word(coach.Fold(w)) != coach.WordAgain {
			t.Errorf("Word(%q) = %q, want again", w, coach.Word(coach.Fold(w)))
		}
	}
}

func TestDeclinedAgainSaysItClosed(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	e.cmd(user, "declined A-san")
	r := e.cmd(user, "declined again")
	title := lib.T(trustbot.English, "journey.with_label", "title", lib.Journeys[coach.Cooling].Title.In(trustbot.English), "label", "A-san")
	if want := lib.T(trustbot.English, "journey.declined_closed", "title", title); !strings.Contains(all(r), want) {
		t.Fatalf("declined again does not say it closed the period (%q): %q", want, all(r))
	}
	if js, _ := e.db.Journeys(context.Background(), user, true); len(js) != 0 {
		t.Fatalf("still active: %+v", js)
	}
	r = e.cmd(user, "断られた また")
	if want := lib.T(trustbot.English, "journey.declined_none"); !strings.Contains(all(r), want) {
		t.Fatalf("a second declined again does not say there was nothing to close: %q", all(r))
	}
}

func TestPauseWithoutLengthAsks(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	r := e.cmd(user, "pause")
	if !strings.Contains(all(r), lib.T(trustbot.English, "prefs.pause_ask")) {
		t.Fatalf("pause without a length: %q", all(r))
	}
	set, err := e.db.Settings(context.Background(), user)
	if err != nil || !set.Prefs.PausedUntil.IsZero() {
		t.Fatalf("pause without a length paused (until %v, %v)", set.Prefs.PausedUntil, err)
	}
	b := control(t, r, coach.ActPause)
	r = e.press(user, coach.ActPause, b.Value)
	if !strings.Contains(all(r), "DMs are paused until") {
		t.Fatalf("pressing %q: %q", b.Value, all(r))
	}
	if set, _ := e.db.Settings(context.Background(), user); set.Prefs.PausedUntil.IsZero() {
		t.Fatal("the button did not pause")
	}
	if r := e.press(user, coach.ActPause, "99y"); !strings.Contains(all(r), lib.T(trustbot.English, "error.invalid")) {
		t.Fatalf("a forged pause length: %q", all(r))
	}
	if r := all(e.cmd(user, "resume")); !strings.Contains(r, lib.T(trustbot.English, "prefs.resumed")) {
		t.Fatalf("resume while paused: %q", r)
	}
	if r := all(e.cmd(user, "再開")); !strings.Contains(r, lib.T(trustbot.English, "prefs.not_paused")) || strings.Contains(r, lib.T(trustbot.English, "prefs.resumed")) {
		t.Fatalf("resume when not paused: %q", r)
	}
}

func TestCheckinOffSaysWhatHappened(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	none := lib.T(trustbot.English, "checkin.none")
	r := all(e.cmd(user, "checkin off"))
	if !strings.Contains(r, lib.T(trustbot.English, "checkin.off_none")) || strings.Contains(r, lib.T(trustbot.English, "checkin.off")) {
		t.Fatalf("off without check-ins: %q", r)
	}
	e.cmd(user, "checkin weekly fri 16:00")
	r = all(e.cmd(user, "checkin off"))
	if !strings.Contains(r, lib.T(trustbot.English, "checkin.off")) || strings.Contains(r, none) {
		t.Fatalf("off: %q", r)
	}
	if !strings.Contains(r, lib.T(trustbot.English, "checkin.off_status", "cadence", "every Friday at 16:00")) {
		t.Fatalf("off does not say what was stopped: %q", r)
	}
	r = all(e.cmd(user, "checkin off"))
	if !strings.Contains(r, lib.T(trustbot.English, "checkin.off_already")) || strings.Contains(r, none) {
		t.Fatalf("off twice: %q", r)
	}
}

func TestCheckinOnADayOff(t *testing.T) {
	e := newCheckinEnv(t)
	lib := MustLibrary(t)
	want := lib.T(trustbot.English, "checkin.not_workday", "day", "Sunday", "command", "/trust workdays mon,tue,wed,thu,fri,sun")
	r := all(e.cmd(user, "checkin weekly sun 09:00"))
	if !strings.Contains(r, want) {
		t.Fatalf("a check-in on a day off is not explained (%q): %q", want, r)
	}
	// The command it names works, and then nothing needs explaining.
	e.cmd(user, "workdays mon,tue,wed,thu,fri,sun")
	r = all(e.cmd(user, "checkin weekly sun 09:00"))
	if strings.Contains(r, want) || !strings.Contains(r, "Sun 29 Nov, 09:00") {
		t.Fatalf("after adding Sunday: %q", r)
	}
	if r := all(e.cmd(user, "checkin monthly 1 09:00")); strings.Contains(r, "isn't one of your workdays") {
		t.Fatalf("a monthly date is explained as a day off: %q", r)
	}
}

func TestHolidaysStatusReads(t *testing.T) {
	e := newCheckinEnv(t)
	if r := all(e.cmd(user, "checkin weekly")); !strings.Contains(r, "Skipping Japanese public holidays: on") {
		t.Fatalf("holidays skipped by default in Tokyo: %q", r)
	}
	if r := all(e.cmd(user, "holidays off")); !strings.Contains(r, "Skipping Japanese public holidays: off") {
		t.Fatalf("holidays off: %q", r)
	}
}
