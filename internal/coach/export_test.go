package coach_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// walk calls f with the path and value of every field of a decoded JSON
// document; the keys of "answers" maps are data, not field names.
func walk(path string, v any, f func(path, key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(path, k, e)
			if k != "answers" {
				walk(path+"."+k, e, f)
			}
		}
	case []any:
		for _, e := range x {
			walk(path+"[]", e, f)
		}
	}
}

// The export is the documented, readable format: snake_case names that
// docs/export.md describes, weekdays by name, "HH:MM" times, RFC 3339
// instants, dates, and null for "none".
func TestExportFormat(t *testing.T) {
	e := newCheckinEnv(t)
	for _, cmd := range []string{"checkin weekly fri 16:00", "quiet 22:00-08:00", "declined A-san", "workdays mon-fri,sun"} {
		e.cmd(user, cmd)
	}
	r := e.cmd(user, "export")
	if r.File == nil {
		t.Fatalf("no file: %q", all(r))
	}
	if r.File.Sent == "" || r.File.Failed == "" || !strings.HasSuffix(r.File.Name, ".json") {
		t.Fatalf("file without where it went or what to say on failure: %+v", r.File)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.File.Data, &doc); err != nil {
		t.Fatal(err)
	}
	var x coach.Export
	if err := json.Unmarshal(r.File.Data, &x); err != nil {
		t.Fatal(err)
	}
	if x.Schema != "trustbot-export" || x.SchemaVersion != 1 || x.User != user.User || x.Workspace != user.Team {
		t.Fatalf("header: %+v", x)
	}
	s := x.Settings
	if strings.Join(s.Workdays, ",") != "monday,tuesday,wednesday,thursday,friday,sunday" ||
		s.QuietHours == nil || *s.QuietHours != (coach.ExportRange{Start: "22:00", End: "08:00"}) ||
		!s.SkipJPHolidays || s.PausedUntil != nil || s.Language != "auto" {
		t.Fatalf("settings: %+v", s)
	}
	c := x.Checkins
	if c == nil || c.Cadence != "weekly" || c.Weekday == nil || *c.Weekday != "friday" || c.Time != "16:00" ||
		c.DayOfMonth != nil || c.StoppedReason != nil || c.NextDate == nil || *c.NextDate != "2026-11-27" ||
		c.NextAt == nil || *c.NextAt != "2026-11-27T07:00:00Z" {
		t.Fatalf("checkin schedule: %+v", c)
	}
	if len(x.Journeys) != 1 || x.Journeys[0].Label == nil || *x.Journeys[0].Label != "A-san" || x.Journeys[0].Goal != nil {
		t.Fatalf("journeys: %+v", x.Journeys)
	}
	if v, ok := doc["settings"].(map[string]any)["paused_until"]; !ok || v != nil {
		t.Fatalf("paused_until is %v (present %v), want null", v, ok)
	}

	docs, err := os.ReadFile("../../docs/export.md")
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	instant := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	walk("", doc, func(path, key string, v any) {
		if !snake.MatchString(key) {
			t.Errorf("%s.%s: not a snake_case name", path, key)
		}
		if !strings.Contains(string(docs), "`"+key+"`") {
			t.Errorf("%s.%s is not described in docs/export.md", path, key)
		}
		if s, ok := v.(string); ok && (strings.HasSuffix(key, "_at") || key == "paused_until") && !instant.MatchString(s) {
			t.Errorf("%s.%s = %q: not an RFC 3339 instant in UTC", path, key, s)
		}
		if strings.HasPrefix(key, "0001") || v == "0001-01-01T00:00:00Z" {
			t.Errorf("%s.%s: a zero time instead of null", path, key)
		}
	})
}

// The console and Slack get the same bytes for the same data: the file is
// the coach's, whatever the platform.
func TestExportSameEverywhere(t *testing.T) {
	e := newCheckinEnv(t)
	e.db.Now = func() time.Time { return e.now }
	e.cmd(user, "checkin monthly last friday 9:00")
	a := e.cmd(user, "export")
	b := e.cmd(user, "/trust export ~/mine.json")
	if a.File == nil || b.File == nil || string(a.File.Data) != string(b.File.Data) {
		t.Fatal("two exports of the same data differ")
	}
	if b.File.Dest != "~/mine.json" || a.File.Dest != "" {
		t.Fatalf("destination: %q %q", a.File.Dest, b.File.Dest)
	}
	var x coach.Export
	json.Unmarshal(a.File.Data, &x)
	if c := x.Checkins; c == nil || c.WeekOfMonth == nil || *c.WeekOfMonth != "last" || *c.Weekday != "friday" || c.Time != "09:00" {
		t.Fatalf("monthly schedule: %+v", c)
	}
	if !strings.Contains(all(a), MustLibrary(t).T(trustbot.English, "export.summary", "checkins", "0", "reflections", "0", "journeys", "0")) {
		t.Fatalf("summary: %q", all(a))
	}
}
