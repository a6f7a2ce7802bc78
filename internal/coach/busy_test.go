package coach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// settingsBusy is a store whose users' settings cannot be read for now.
type settingsBusy struct {
	*testdb.DB
	busy bool
}

func (s *settingsBusy) Settings(ctx context.Context, k trustbot.UserKey) (trustbot.Settings, error) {
	if s.busy {
		return trustbot.Settings{}, &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy"}
	}
	return s.DB.Settings(ctx, k)
}

// TestMessageWaitsForTheUsersLanguage: a check-in is built in the
// language the user chose, never in the default one because their
// settings could not be read for now: the database's "busy" comes back
// instead, for the dispatcher to try again later. A typed command is
// still answered, in the default language.
func TestMessageWaitsForTheUsersLanguage(t *testing.T) {
	ctx := context.Background()
	store := &settingsBusy{DB: MustStore(t)}
	c := coach.New(MustLibrary(t), store, fixedLocale("ja-JP"), trustbot.Japanese, nil)
	k := trustbot.UserKey{Team: "T1", User: "UBUSYLANG"}
	if err := store.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	d := trustbot.Delivery{ID: "dbusylang", UserKey: k, Kind: coach.KindCheckin, Occurrence: "2026-11-27", DueAt: time.Now()}
	store.busy = true
	if _, err := c.Message(ctx, d); trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
		t.Fatalf("a check-in built while the settings are unreadable: %v, want %s", err, trustbot.EUNAVAILABLE)
	}
	if r := c.Handle(ctx, trustbot.Request{UserKey: k, Kind: trustbot.Command, Text: "help"}); r.Text == "" {
		t.Fatal("a command got no answer while the settings are unreadable")
	}
	store.busy = false
	r, err := c.Message(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := MustLibrary(t).Checkin.Title.In(trustbot.English); !strings.HasPrefix(r.Text, want+"\n") {
		t.Fatalf("the check-in once the settings are read is not in English: %q", r.Text)
	}
}
