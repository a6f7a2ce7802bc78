package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// weekAdvance moves a schedule a week on: the store does not care how.
func weekAdvance(s trustbot.Schedule, _ trustbot.Prefs) (trustbot.Schedule, int) {
	s.Occurrence = s.Occurrence.AddDays(7)
	s.NextDueAt = s.NextDueAt.Add(7 * 24 * time.Hour)
	return s, 0
}

func schedule(k trustbot.UserKey, due time.Time) trustbot.Schedule {
	return trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: time.Friday, Minute: 960, Active: true,
		Occurrence: trustbot.DateOf(due), NextDueAt: due}
}

// TestTwoDispatchersNeverClaimTwice runs two stores (two dispatchers) on
// one file, claiming the same due schedules at once, again and again, as
// if each had a stale view: every occurrence becomes exactly one delivery.
func TestTwoDispatchersNeverClaimTwice(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	a, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	const users = 200
	for i := range users {
		if err := a.SaveSchedule(ctx, schedule(trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%03d", i)}, due)); err != nil {
			t.Fatal(err)
		}
	}
	// A claimer that does not advance the schedule claims the same
	// occurrence every time: only the unique key stands in the way.
	stuck := func(s trustbot.Schedule, _ trustbot.Prefs) (trustbot.Schedule, int) { return s, 0 }
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, db := range []*sqlite.DB{a, b, a, b} {
		wg.Go(func() {
			for range 5 {
				ds, err := db.ClaimDue(ctx, due, 50, stuck)
				if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
					// The other dispatcher held the write lock past the
					// busy timeout: a real one tries again on its next
					// tick, and so does this one.
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.User+"/"+d.Occurrence]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	// Advancing claims the rest exactly once too.
	total := len(seen)
	for {
		ds, err := b.ClaimDue(ctx, due, 64, weekAdvance)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		total += len(ds)
	}
	pending, err := a.Deliverable(ctx, due, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if total != users || len(pending) != users {
		t.Fatalf("%d claimed, %d pending; want %d each", total, len(pending), users)
	}
	s, err := a.Schedule(ctx, trustbot.UserKey{Team: "T1", User: "U000"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.NextDueAt.Equal(due.Add(7*24*time.Hour)) || s.Occurrence.String() != "2026-12-04" {
		t.Fatalf("schedule not advanced: %+v", s)
	}
}

func TestDeliveryLifecycle(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	if err := db.SaveSchedule(ctx, schedule(alice, due)); err != nil {
		t.Fatal(err)
	}
	if ds, _ := db.ClaimDue(ctx, due.Add(-time.Second), 10, weekAdvance); len(ds) != 0 {
		t.Fatalf("claimed %d before the due time", len(ds))
	}
	ds, err := db.ClaimDue(ctx, due, 10, weekAdvance)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	d := ds[0]
	if ok, err := db.MarkSending(ctx, d.ID, "a1", due); !ok || err != nil {
		t.Fatalf("mark sending: %v %v", ok, err)
	}
	if ok, _ := db.MarkSending(ctx, d.ID, "a2", due); ok {
		t.Fatal("a second sender took a delivery already sending")
	}
	stale, _ := db.StaleSending(ctx, due.Add(time.Minute), 10)
	if len(stale) != 1 || stale[0].Attempt != "a1" {
		t.Fatalf("stale sending: %+v", stale)
	}
	if ok, err := db.MarkSent(ctx, d.ID, "a1", trustbot.Posted{Channel: "DALICE", TS: "1.0001"}, due); !ok || err != nil {
		t.Fatalf("mark sent: %v %v", ok, err)
	}

	t.Run("ScopedToTheUser", func(t *testing.T) {
		if _, err := db.Delivery(ctx, bob, d.ID); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Errorf("bob reads alice's delivery: %v", err)
		}
		if _, err := db.Delivery(ctx, aliceElsewhere, d.ID); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Errorf("another workspace reads alice's delivery: %v", err)
		}
		if _, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: bob, Choices: map[string]string{"promises": "no"}}); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Errorf("bob answers alice's check-in: %v", err)
		}
		if err := db.Skip(ctx, bob, d.ID); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Errorf("bob skips alice's check-in: %v", err)
		}
		if err := db.Snooze(ctx, bob, d.ID, due); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			t.Errorf("bob snoozes alice's check-in: %v", err)
		}
	})

	t.Run("AnswersMerge", func(t *testing.T) {
		at := due.Add(time.Hour)
		if _, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: alice, Choices: map[string]string{"promises": "yes"}, AnsweredAt: at}); err != nil {
			t.Fatal(err)
		}
		a, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: alice, Choices: map[string]string{"listening": "partly"}, Note: "話を最後まで聞けた", AnsweredAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if a.Choices["promises"] != "yes" || a.Choices["listening"] != "partly" || a.Note != "話を最後まで聞けた" || a.Occurrence != "2026-11-27" {
			t.Fatalf("merged answers: %+v", a)
		}
		rs, err := db.Reflections(ctx, alice, "checkin", 10)
		if err != nil || len(rs) != 1 || rs[0].Answers.Note != a.Note {
			t.Fatalf("reflections: %+v %v", rs, err)
		}
		if rs, _ := db.Reflections(ctx, bob, "checkin", 10); len(rs) != 0 {
			t.Fatalf("bob sees %d reflections", len(rs))
		}
	})

	t.Run("Snooze", func(t *testing.T) {
		later := due.Add(3 * time.Hour)
		if err := db.Snooze(ctx, alice, d.ID, later); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Deliverable(ctx, later.Add(-time.Second), 10); len(got) != 0 {
			t.Fatal("snoozed delivery deliverable early")
		}
		if got, _ := db.Deliverable(ctx, later, 10); len(got) != 1 || got[0].ID != d.ID {
			t.Fatalf("snoozed delivery not deliverable at its time: %+v", got)
		}
	})
}

func TestSettingsPrefs(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s, _ := db.Settings(ctx, alice)
	if s.Prefs.Workdays != trustbot.MondayToFriday || s.Prefs.QuietStart != -1 || !s.Prefs.PausedUntil.IsZero() {
		t.Fatalf("default prefs: %+v", s.Prefs)
	}
	s.Prefs.QuietStart, s.Prefs.QuietEnd, s.Prefs.Holidays = 22*60, 8*60, "jp"
	s.Prefs.PausedUntil = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	if err := db.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveProfile(ctx, trustbot.Profile{UserKey: alice, TZ: "Asia/Tokyo", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Settings(ctx, alice)
	want := s.Prefs
	want.TZ = "Asia/Tokyo"
	if got.Prefs != want {
		t.Fatalf("prefs = %+v, want %+v", got.Prefs, want)
	}
}

func TestSettingsKeepPrefsWhenLanguageChanges(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s, _ := db.Settings(ctx, alice)
	s.Prefs.Holidays = "jp"
	db.SaveSettings(ctx, s)
	s, _ = db.Settings(ctx, alice)
	s.Lang = "en"
	db.SaveSettings(ctx, s)
	if got, _ := db.Settings(ctx, alice); got.Prefs.Holidays != "jp" || got.Lang != "en" {
		t.Fatalf("got %+v", got)
	}
}

// TestLateSenderCannotOverwriteARequeue plays a sender that hears back from
// the platform only after a reconciler requeued its delivery and another
// attempt took it: nothing the late sender records takes effect, and it is
// told so. A late "sent" on a requeued delivery nobody took since does take
// effect: the message is out, so it must not go again.
func TestLateSenderCannotOverwriteARequeue(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	state := func(id string) trustbot.Delivery {
		t.Helper()
		d, err := db.Delivery(ctx, alice, id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	take := func(id, attempt string) {
		t.Helper()
		if ok, err := db.MarkSending(ctx, id, attempt, due); !ok || err != nil {
			t.Fatalf("mark sending %s: %v %v", attempt, ok, err)
		}
	}
	insert := func(occurrence string) string {
		t.Helper()
		if ok, err := db.InsertDelivery(ctx, trustbot.Delivery{UserKey: alice, Kind: "checkin", Occurrence: occurrence, DueAt: due}); !ok || err != nil {
			t.Fatalf("insert: %v %v", ok, err)
		}
		ds, err := db.Deliverable(ctx, due, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Occurrence == occurrence {
				return d.ID
			}
		}
		t.Fatalf("no delivery for %s", occurrence)
		return ""
	}

	t.Run("AnotherAttemptTookIt", func(t *testing.T) {
		id := insert("2026-11-27")
		take(id, "late")
		if ok, err := db.Requeue(ctx, id, "late", due, "not found after attempt late"); !ok || err != nil {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		take(id, "second")
		if ok, err := db.MarkFailed(ctx, id, "late", "timeout"); ok || err != nil {
			t.Errorf("late MarkFailed: took effect %v, %v", ok, err)
		}
		if ok, err := db.Requeue(ctx, id, "late", due, "stopped"); ok || err != nil {
			t.Errorf("late Requeue: took effect %v, %v", ok, err)
		}
		if ok, err := db.MarkSent(ctx, id, "late", trustbot.Posted{Channel: "DALICE", TS: "1.1"}, due); ok || err != nil {
			t.Errorf("late MarkSent: took effect %v, %v", ok, err)
		}
		if d := state(id); d.State != trustbot.Sending || d.Attempt != "second" {
			t.Fatalf("after the late sender: %s under %q, want sending under the second attempt", d.State, d.Attempt)
		}
		if ok, err := db.MarkSent(ctx, id, "second", trustbot.Posted{Channel: "DALICE", TS: "2.2"}, due); !ok || err != nil {
			t.Fatalf("second attempt's MarkSent: %v %v", ok, err)
		}
		if ok, _ := db.MarkFailed(ctx, id, "late", "timeout"); ok {
			t.Error("a late MarkFailed overwrote a sent delivery")
		}
		if d := state(id); d.State != trustbot.Sent || d.TS != "2.2" {
			t.Errorf("end: %s ts %s, want sent as 2.2", d.State, d.TS)
		}
	})

	t.Run("RequeuedAndNotTakenYet", func(t *testing.T) {
		id := insert("2026-12-04")
		take(id, "late")
		if ok, err := db.Requeue(ctx, id, "late", due, "not found after attempt late"); !ok || err != nil {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		if ok, err := db.MarkFailed(ctx, id, "late", "timeout"); ok || err != nil {
			t.Errorf("late MarkFailed on a requeued delivery: took effect %v, %v", ok, err)
		}
		if d := state(id); d.State != trustbot.Pending {
			t.Fatalf("requeued delivery is %s, want pending", d.State)
		}
		if ok, err := db.MarkSent(ctx, id, "late", trustbot.Posted{Channel: "DALICE", TS: "3.3"}, due); !ok || err != nil {
			t.Fatalf("late MarkSent of a message that went out: %v %v", ok, err)
		}
		if d := state(id); d.State != trustbot.Sent || d.TS != "3.3" {
			t.Errorf("end: %s ts %s, want sent as 3.3", d.State, d.TS)
		}
	})
}
