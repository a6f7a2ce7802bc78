package sqlite

import (
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TestCacheKeepsNoReadOlderThanAWrite: a value read before a write, stored
// after it, must not be served.
func TestCacheKeepsNoReadOlderThanAWrite(t *testing.T) {
	c := newUserCache[string]()
	k := trustbot.UserKey{Team: "T1", User: "U1"}
	now := time.Now()
	_, gen, ok := c.get(k, now)
	if ok {
		t.Fatal("hit on an empty cache")
	}
	c.update(k, nil) // a write lands while the read is under way
	c.put(k, "old", gen, now)
	if v, _, ok := c.get(k, now); ok {
		t.Fatalf("served %q, read before the write", v)
	}
	_, gen, _ = c.get(k, now)
	c.put(k, "new", gen, now)
	if v, _, ok := c.get(k, now); !ok || v != "new" {
		t.Fatalf("got %q %v", v, ok)
	}
	if _, _, ok := c.get(k, now.Add(cacheTTL)); ok {
		t.Fatal("served past its time")
	}
}
