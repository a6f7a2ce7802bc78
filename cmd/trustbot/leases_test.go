package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/trustbot/trustbot/internal/sqlite"
)

// TestHandledSeenIsShared: a request handled by one replica is a
// duplicate for another on the same database, as Slack may hand an
// envelope or retry an event at any of an app's connections.
func TestHandledSeenIsShared(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	var seens []handledSeen
	for range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		seens = append(seens, handledSeen{store: db, log: slog.New(slog.DiscardHandler)})
	}
	if !seens[0].First(ctx, "envelope:E1") {
		t.Fatal("a new envelope is a duplicate")
	}
	if seens[1].First(ctx, "envelope:E1") || seens[0].First(ctx, "envelope:E1") {
		t.Fatal("an envelope handled by one replica is handled again")
	}
	if !seens[1].First(ctx, "event:E1") {
		t.Fatal("an event with the envelope's ID is taken for it")
	}
}
