package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

func TestConversations(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	tenant := trustbot.TeamsWorkspace("8f0d6a1e-3c1b-4b5e-9e7f-2a6c4d1b0e93")
	user := trustbot.UserKey{Team: tenant, User: "29:1Qx-3vJ_kd8wYzP0aB5cD6eF7gH8iJ9kL0mN1oP2qR3sT4uV5wX6yZ7aB8cD9eF0gH1iJ2kL3mN4oP5qR6sT7uV8wX9yZ0"}
	channel := trustbot.UserKey{Team: tenant, User: "19:3b1c0f2d9e8a4b7c6d5e4f3a2b1c0d9e@thread.tacv2"}
	if !user.Valid() || !channel.Valid() || user.Platform() != trustbot.Teams {
		t.Fatalf("Teams keys not valid: %v %v", user.Valid(), channel.Valid())
	}
	if _, err := db.Conversation(ctx, user); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("no reference yet: %v", err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := trustbot.Conversation{Key: user, ID: "a:1personal", ServiceURL: "https://smba.trafficmanager.net/jp/", BotID: "28:app", Name: "佐藤 花子", UpdatedAt: at}
	ch := trustbot.Conversation{Key: channel, ID: channel.User, ServiceURL: "https://smba.trafficmanager.net/jp/", BotID: "28:app", Channel: true, Name: "General", UpdatedAt: at}
	for _, x := range []trustbot.Conversation{c, ch} {
		if err := db.SaveConversation(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	// A later activity refreshes the reference.
	c.ServiceURL, c.UpdatedAt = "https://smba.trafficmanager.net/apac/", at.Add(time.Hour)
	if err := db.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Conversation(ctx, user)
	if err != nil || got != c {
		t.Fatalf("got %+v %v, want %+v", got, err, c)
	}
	if got, err := db.Conversation(ctx, channel); err != nil || got != ch {
		t.Fatalf("channel: got %+v %v", got, err)
	}
	// Scoped by workspace: the same user ID in another tenant has none.
	other := trustbot.UserKey{Team: trustbot.TeamsWorkspace("00000000-0000-0000-0000-000000000001"), User: user.User}
	if _, err := db.Conversation(ctx, other); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("another tenant sees the reference: %v", err)
	}
	if err := db.DeleteConversation(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Conversation(ctx, user); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("deleted reference still there: %v", err)
	}
	if _, err := db.Conversation(ctx, channel); err != nil {
		t.Fatalf("deleting a user's reference removed the channel's: %v", err)
	}
}
