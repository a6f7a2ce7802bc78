package coach_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// lockedLog is a log the test reads while the coach writes it.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noticeRefused is the real store, refusing to queue deliveries.
type noticeRefused struct{ *testdb.DB }

func (noticeRefused) InsertDelivery(context.Context, trustbot.Delivery) (bool, error) {
	return false, errors.New("injected: insert refused")
}

// TestUnreachableWritesAreChecked: what the coach changes when a target
// cannot be reached (a user's check-ins stop; a channel's posts pause and
// its subscriber is told) is a write like any other. When it fails, the log
// says so; when it goes through, the change is made.
func TestUnreachableWritesAreChecked(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	testdb.SQLiteOnly(t, "the refused write is SQLite's query_only pragma; the coach's handling of it is the same on either store")
	db := MustStore(t)
	logs := &lockedLog{}
	c := coach.New(MustLibrary(t), noticeRefused{db}, &zoneDir{tz: "Asia/Tokyo", locale: "en-US"}, trustbot.English, slog.New(slog.NewTextHandler(logs, nil)))
	c.Now = func() time.Time { return now }
	c.Handle(ctx, trustbot.Request{Kind: trustbot.Command, UserKey: user, Text: "checkin weekly fri 16:00"})
	if s, err := db.Schedule(ctx, user); err != nil || !s.Active {
		t.Fatalf("no check-in to stop: %+v %v", s, err)
	}

	// The disk refuses the write: logged, and the check-ins go on.
	if err := db.SQLite.WritePragma(ctx, "query_only(1)"); err != nil {
		t.Fatal(err)
	}
	c.Unreachable(ctx, trustbot.Delivery{UserKey: user, Kind: coach.KindCheckin}, "account_inactive", now)
	if !strings.Contains(logs.String(), "could not stop the check-ins") {
		t.Fatalf("a failed stop is not logged:\n%s", logs)
	}
	db.SQLite.WritePragma(ctx, "query_only(0)")
	c.Unreachable(ctx, trustbot.Delivery{UserKey: user, Kind: coach.KindCheckin}, "account_inactive", now)
	if s, err := db.Schedule(ctx, user); err != nil || s.Active || s.Stopped != "account_inactive" {
		t.Fatalf("check-ins after the target was unreachable: %+v %v", s, err)
	}

	// A channel's posts pause; its subscriber's notice cannot be queued.
	sub := trustbot.Subscription{Team: user.Team, Channel: "C0GONE", Weekday: time.Monday, Minute: 540, Lang: "en", TZ: "UTC",
		Active: true, Subscriber: user.User, NextDueAt: now}
	if err := db.SaveSubscription(ctx, sub, user.User, "on"); err != nil {
		t.Fatal(err)
	}
	c.Unreachable(ctx, trustbot.Delivery{UserKey: trustbot.UserKey{Team: user.Team, User: "C0GONE"}, Kind: coach.KindWeekly}, "channel_not_found", now)
	if s, err := db.Subscription(ctx, user.Team, "C0GONE"); err != nil || s.Active {
		t.Fatalf("the channel's posts did not pause: %+v %v", s, err)
	}
	if !strings.Contains(logs.String(), "the notice to its subscriber could not be queued") {
		t.Fatalf("a notice that could not be queued is not logged:\n%s", logs)
	}
}

// A channel whose subscriber has asked to be forgotten: its posts pause,
// and no notice is queued for nobody.
func TestUnreachableChannelOfAForgottenSubscriber(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	db := MustStore(t)
	c := coach.New(MustLibrary(t), db, &zoneDir{tz: "Asia/Tokyo", locale: "en-US"}, trustbot.English, nil)
	c.Now = func() time.Time { return now }
	sub := trustbot.Subscription{Team: user.Team, Channel: "C0GONE", Weekday: time.Monday, Minute: 540, Lang: "en", TZ: "UTC",
		Active: true, Subscriber: user.User, NextDueAt: now}
	if err := db.SaveSubscription(ctx, sub, user.User, "on"); err != nil {
		t.Fatal(err)
	}
	if err := db.Forget(ctx, user); err != nil {
		t.Fatal(err)
	}
	c.Unreachable(ctx, trustbot.Delivery{UserKey: trustbot.UserKey{Team: user.Team, User: "C0GONE"}, Kind: coach.KindWeekly}, "channel_not_found", now)
	if s, err := db.Subscription(ctx, user.Team, "C0GONE"); err != nil || s.Active {
		t.Fatalf("the channel's posts did not pause: %+v %v", s, err)
	}
	if ds, err := db.Deliverable(ctx, now.Add(time.Hour), 10); err != nil || len(ds) != 0 {
		t.Fatalf("a notice was queued for nobody: %+v %v", ds, err)
	}
}
