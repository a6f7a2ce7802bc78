package teams

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/trustbot/trustbot/internal/fakebf"
)

// memSeen is a Seen in memory that two bots may share, as replicas share
// their database's.
type memSeen struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (s *memSeen) First(_ context.Context, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	if s.keys[id] {
		return false
	}
	s.keys[id] = true
	return true
}

// TestRedeliveredActivityHandledOnce: the Bot Framework delivers an
// activity again (it retries one a bot was slow to acknowledge), and
// behind a load balancer the second delivery reaches another replica.
// With the replicas sharing a Seen, a message and a form's submission
// are handled once and answered once; a dialog's opening is answered
// each time (the user needs the dialog). An activity ID is unique only
// in its conversation: the same ID in another conversation is another
// activity. The keys remembered name no tenant, conversation or
// activity.
func TestRedeliveredActivityHandledOnce(t *testing.T) {
	seen := &memSeen{}
	withSeen := func(c *Config) { c.Seen = seen }
	_, bf, srv1, h1 := devBot(t, withSeen)
	_, _, srv2, h2 := devBot(t, withSeen)
	u := fakebf.NewUser("Kato", "ja-JP", "Asia/Tokyo")
	conv := bf.PersonalConversationID(u.ID)
	post := func(url string, a *fakebf.Activity) []byte {
		t.Helper()
		status, body, err := bf.Post(context.Background(), url, a, fakebf.NoToken)
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s %s: %d %s %v", a.Type, a.ID, status, body, err)
		}
		return body
	}
	requests := func() int { return len(h1.requests()) + len(h2.requests()) }

	a := bf.Personal(u, "tip")
	post(srv1.URL, a)
	post(srv2.URL, a) // the retry, at the other replica
	post(srv1.URL, a)
	// A form submitted, and delivered again at the other replica.
	submit := bf.Invoke(a, InvokeTaskSubmit, map[string]any{"data": map[string]any{"trustbot": map[string]any{"f": "plan"}, "in.goal": "trust"}})
	post(srv2.URL, submit)
	post(srv1.URL, submit)
	// The redeliveries were acknowledged without being handled: the
	// answers the first deliveries get are all there will be. A message
	// sent after them shows when those are in.
	post(srv2.URL, bf.Personal(u, "help"))
	await(t, bf, conv, 3)
	if n := requests(); n != 3 {
		t.Fatalf("%d requests handled for a message and a form delivered twice or three times and one more message, want 3", n)
	}
	if n := len(bf.FromBot(bf.Messages(conv))); n != 3 {
		t.Fatalf("%d answers, want 3", n)
	}

	// A dialog opened, and the opening delivered again: the dialog both
	// times.
	fetch := bf.Invoke(a, InvokeTaskFetch, map[string]any{"data": map[string]any{"trustbot": map[string]any{"a": "plan.start"}}})
	for _, url := range []string{srv1.URL, srv2.URL} {
		if body := post(url, fetch); len(body) == 0 {
			t.Fatalf("a dialog's opening delivered again got no answer")
		}
	}
	if n := requests(); n != 5 {
		t.Fatalf("%d requests after a dialog opened twice, want 5", n)
	}

	// The same activity ID in another user's conversation is handled.
	v := fakebf.NewUser("Vega", "en-US", "")
	other := bf.Personal(v, "tip")
	other.ID = a.ID
	post(srv1.URL, other)
	await(t, bf, bf.PersonalConversationID(v.ID), 1)
	if n := requests(); n != 6 {
		t.Fatalf("%d requests after the same activity ID came from another conversation, want 6", n)
	}

	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.keys) != 4 {
		t.Errorf("%d keys remembered, want 4 (two messages, a submission, another conversation's message)", len(seen.keys))
	}
	for k := range seen.keys {
		for _, id := range []string{bf.TenantID(), conv, a.ID, u.ID} {
			if strings.Contains(k, id) {
				t.Errorf("the key %q names %q", k, id)
			}
		}
	}
}
