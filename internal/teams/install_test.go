package teams

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// meeting holds each of two replicas at its first call to the store
// until the other is there too: two notices are then handled side by
// side, as at two replicas in the same instant, whatever the scheduler
// does.
type meeting struct {
	mu      sync.Mutex
	arrived map[*meetingStore]bool
	all     chan struct{}
}

func newMeeting() *meeting {
	return &meeting{arrived: map[*meetingStore]bool{}, all: make(chan struct{})}
}

func (m *meeting) arrive(ctx context.Context, s *meetingStore) {
	m.mu.Lock()
	first := !m.arrived[s]
	m.arrived[s] = true
	if first && len(m.arrived) == 2 {
		close(m.all)
	}
	m.mu.Unlock()
	if first {
		select {
		case <-m.all:
		case <-ctx.Done():
		}
	}
}

// meetingStore is one replica's conversation store: the shared database,
// its calls held at the meeting while there is one.
type meetingStore struct {
	trustbot.ConversationStore
	at      *atomic.Pointer[meeting]
	created *atomic.Int32 // saves that created the reference, across replicas
}

func (s *meetingStore) meet(ctx context.Context) {
	if m := s.at.Load(); m != nil {
		m.arrive(ctx, s)
	}
}

func (s *meetingStore) Conversation(ctx context.Context, k trustbot.UserKey) (trustbot.Conversation, error) {
	s.meet(ctx)
	return s.ConversationStore.Conversation(ctx, k)
}

func (s *meetingStore) SaveConversation(ctx context.Context, c trustbot.Conversation) (bool, error) {
	s.meet(ctx)
	created, err := s.ConversationStore.SaveConversation(ctx, c)
	if created {
		s.created.Add(1)
	}
	return created, err
}

// TestInstallGreetsOnceAcrossReplicas: Teams tells of one personal
// install twice (a conversationUpdate and an installationUpdate), and
// behind a load balancer the two reach two replicas at once, each with
// its own store on one database. The user is greeted once. Removed and
// added again, they are greeted again, once.
//
// Which notice greets is settled before either is answered: the one
// whose save created the reference. The greeting itself is sent after
// the answer, so the test counts those saves, then waits for the
// greeting and the answer to a later message, in whichever order they
// come.
func TestInstallGreetsOnceAcrossReplicas(t *testing.T) {
	db := testdb.Open(t)
	var at atomic.Pointer[meeting]
	var created atomic.Int32
	replica := func(s trustbot.ConversationStore) func(*Config) {
		return func(c *Config) { c.Conversations = &meetingStore{ConversationStore: s, at: &at, created: &created} }
	}
	_, bf, srv1, h1 := devBot(t, replica(db.DB))
	_, _, srv2, h2 := devBot(t, replica(testdb.OpenAt(t, db.DSN).DB))
	u := fakebf.NewUser("Ito", "ja-JP", "Asia/Tokyo")
	conv := bf.PersonalConversationID(u.ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	post := func(url string, a *fakebf.Activity) {
		t.Helper()
		if status, body, err := bf.Post(ctx, url, a, fakebf.NoToken); err != nil || status != http.StatusOK {
			t.Errorf("%s: %d %s %v", a.Type, status, body, err)
		}
	}
	installs := func() int {
		n := 0
		for _, r := range append(h1.requests(), h2.requests()...) {
			if r.Kind == trustbot.Install {
				n++
			}
		}
		return n
	}
	// answered waits for the n-th greeting and the answer to the n-th
	// help, sent after the notices.
	answered := func(n int) []fakebf.Message {
		t.Helper()
		post(srv1.URL, bf.Personal(u, "help"))
		var helps, greetings int
		msgs, err := bf.Await(ctx, conv, func(m []fakebf.Message) bool {
			helps, greetings = 0, 0
			for _, m := range bf.FromBot(m) {
				switch text := m.Text + m.Summary + attachmentText(m); {
				case strings.Contains(text, "echo: help"):
					helps++
				case strings.Contains(text, "echo: "):
					greetings++
				}
			}
			return helps >= n && greetings >= n
		})
		if err != nil {
			t.Fatalf("waiting for greeting %d and answer %d: %v (%d greetings, %d answers)", n, n, err, greetings, helps)
		}
		return bf.FromBot(msgs)
	}

	for round := 1; round <= 2; round++ {
		if round == 2 {
			// Removed and added again at once: the addition comes as soon
			// as the removal is acknowledged, and finds it done.
			post(srv2.URL, bf.Uninstalled(u))
			rs := h2.requests()
			if len(rs) == 0 || rs[len(rs)-1].Kind != trustbot.Uninstall {
				t.Fatal("the removal acknowledged before it was handled: an addition right after it would be undone")
			}
			if _, err := db.Conversation(ctx, rs[len(rs)-1].UserKey); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
				t.Fatalf("the removal acknowledged with the conversation reference still kept (%v): an addition right after it would not greet", err)
			}
		}
		at.Store(newMeeting())
		var wg sync.WaitGroup
		wg.Go(func() { post(srv1.URL, bf.MembersAdded(u)) })
		wg.Go(func() { post(srv2.URL, bf.Installed(u)) })
		wg.Wait()
		at.Store(nil)
		if t.Failed() {
			t.FailNow()
		}
		if n := created.Load(); n != int32(round) {
			t.Fatalf("round %d: %d saves created the conversation reference in all, want %d: each would greet", round, n, round)
		}
		msgs := answered(round)
		if n := installs(); n != round {
			t.Fatalf("round %d: %d installs handled in all, want %d: the two notices of one install greeted twice", round, n, round)
		}
		if len(msgs) != 2*round {
			t.Fatalf("round %d: %d messages from the bot, want %d (a greeting and an answer a round)", round, len(msgs), 2*round)
		}
		rs := h1.requests()
		if _, err := db.Conversation(ctx, rs[len(rs)-1].UserKey); err != nil {
			t.Fatalf("round %d: the conversation reference is not kept: %v", round, err)
		}
	}
}

func attachmentText(m fakebf.Message) string {
	var b strings.Builder
	for _, a := range m.Attachments {
		b.Write(a.Content)
	}
	return b.String()
}

// failingSaves is a conversation store that cannot save.
type failingSaves struct{ memConversations }

func (s *failingSaves) SaveConversation(context.Context, trustbot.Conversation) (bool, error) {
	return false, trustbot.Errorf(trustbot.EUNAVAILABLE, "database unavailable")
}

// TestInstallGreetsWhenTheReferenceIsNotSaved: when the store cannot
// save the conversation's reference, it cannot say which notice of an
// installation is the first; the installationUpdate greets, and the
// conversationUpdate beside it does not.
func TestInstallGreetsWhenTheReferenceIsNotSaved(t *testing.T) {
	_, bf, srv, h := devBot(t, func(c *Config) { c.Conversations = &failingSaves{} })
	u := fakebf.NewUser("Mori", "ja-JP", "Asia/Tokyo")
	conv := bf.PersonalConversationID(u.ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, a := range []*fakebf.Activity{bf.MembersAdded(u), bf.Installed(u)} {
		if status, body, err := bf.Post(ctx, srv.URL, a, fakebf.NoToken); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %s %v", a.Type, status, body, err)
		}
	}
	msgs := await(t, bf, conv, 1)
	if !strings.Contains(msgs[0].Text+msgs[0].Summary+attachmentText(msgs[0]), "echo: ") {
		t.Fatalf("not a greeting: %+v", msgs[0])
	}
	installs := 0
	for _, r := range h.requests() {
		if r.Kind == trustbot.Install {
			installs++
		}
	}
	if installs != 1 {
		t.Fatalf("%d installs handled, want 1", installs)
	}
}
