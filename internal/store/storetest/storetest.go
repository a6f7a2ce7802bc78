// Package storetest is the contract every store keeps: one suite of tests,
// run on SQLite and on PostgreSQL alike (Run), and the helpers their own
// tests share.
package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/secret"
	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Harness opens the stores of one database kind.
type Harness struct {
	// Open makes a fresh, empty database for the test and opens a store
	// on it, closed when the test ends.
	Open func(t testing.TB) *store.DB
	// Again opens another store on db's database, as another process
	// would (db may be closed already).
	Again func(t testing.TB, db *store.DB) *store.DB
	// SQL returns a connection pool of its own on db's database, for
	// looking at what is stored. Queries written for it number their
	// placeholders ($1), which both databases take.
	SQL func(t testing.TB, db *store.DB) *sql.DB
	// Bytes, when set, returns every byte the database keeps on disk (a
	// SQLite file, its WAL and shared-memory file): what is sealed or
	// erased must not be found there. A server's files are not reachable
	// from its client: nil.
	Bytes func(t testing.TB, db *store.DB) []byte
	// Version is the newest migration the database kind has.
	Version int
}

func (h Harness) bytes(t testing.TB, db *store.DB) []byte {
	if h.Bytes == nil {
		return nil
	}
	return h.Bytes(t, db)
}

// Run runs the whole contract against h's stores.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Harness)
	}{
		{"Settings", testSettings},
		{"Profile", testProfile},
		{"RecentTips", testRecentTips},
		{"ConcurrentWriters", testConcurrentWriters},
		{"MoveJourneyIsFenced", testMoveJourneyIsFenced},
		{"TwoDispatchersNeverClaimTwice", testTwoDispatchersNeverClaimTwice},
		{"DeliveryLifecycle", testDeliveryLifecycle},
		{"AnswersMergeAtOnce", testAnswersMergeAtOnce},
		{"SkipPendingByPrefix", testSkipPendingByPrefix},
		{"ChannelTips", testChannelTips},
		{"OtherTeams", testOtherTeams},
		{"ProbeAndVersion", testProbeAndVersion},
		{"EveryClaimOnceAtOnce", testEveryClaimOnceAtOnce},
		{"ClaimSendingAtOnce", testClaimSendingAtOnce},
		{"ReplicaLeases", testReplicaLeases},
		{"NamedLeases", testNamedLeases},
		{"HandledOnce", testHandledOnce},
		{"HandledAll", testHandledAll},
		{"SettingsPrefs", testSettingsPrefs},
		{"SettingsKeepPrefsWhenLanguageChanges", testSettingsKeepPrefsWhenLanguageChanges},
		{"LateSenderCannotOverwriteARequeue", testLateSenderCannotOverwriteARequeue},
		{"Conversations", testConversations},
		{"ConversationCreatedOnce", testConversationCreatedOnce},
		{"EncryptionAtRest", testEncryptionAtRest},
		{"Forget", testForget},
		{"ExportAndPurge", testExportAndPurge},
		{"CopyIntoAnEmptyStore", testCopyIntoAnEmptyStore},
		{"SendSlots", testSendSlots},
		{"TextThatLooksSealedStaysText", testTextThatLooksSealedStaysText},
		{"UnreadableRowsAreSkipped", testUnreadableRowsAreSkipped},
		{"CachedReadsFollowWrites", testCachedReadsFollowWrites},
		{"TipsShownWrittenInGroups", testTipsShownWrittenInGroups},
		{"Installations", testInstallations},
		{"UninstallCancelsOnlyItsWorkspace", testUninstallCancelsOnlyItsWorkspace},
		{"OrgWorkspaces", testOrgWorkspaces},
		{"RefreshOnceAtOnce", testRefreshOnceAtOnce},
		{"OAuthStates", testOAuthStates},
		{"FileLinks", testFileLinks},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, h) })
	}
}

var (
	alice = trustbot.UserKey{Team: "T1", User: "UALICE"}
	bob   = trustbot.UserKey{Team: "T1", User: "UBOB"}
	// aliceElsewhere has Alice's user ID in another workspace: a different person's data.
	aliceElsewhere = trustbot.UserKey{Team: "T2", User: "UALICE"}
)

// CountingMetrics counts the faults a store reports.
type CountingMetrics struct {
	trustbot.NopMetrics
	mu     sync.Mutex
	faults map[string]int
}

func (m *CountingMetrics) Fault(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faults == nil {
		m.faults = map[string]int{}
	}
	m.faults[name]++
}

// Unreadable is how many rows were skipped as unreadable.
func (m *CountingMetrics) Unreadable() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults[trustbot.FaultUnreadable]
}

// Lookalike is text a user may type that looks like a sealed value.
const Lookalike = "enc1:deadbeef:AAAA"

func testSettings(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	t.Run("DefaultsToAuto", func(t *testing.T) {
		s, err := db.Settings(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if s.Lang != trustbot.LangAuto || s.UserKey != alice {
			t.Fatalf("got %+v", s)
		}
	})
	t.Run("ScopedToWorkspaceAndUser", func(t *testing.T) {
		if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: alice, Lang: "ja"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			k    trustbot.UserKey
			want string
		}{{alice, "ja"}, {bob, "auto"}, {aliceElsewhere, "auto"}} {
			s, err := db.Settings(ctx, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if s.Lang != tc.want {
				t.Errorf("%s: lang = %q, want %q", tc.k, s.Lang, tc.want)
			}
		}
	})
}

func testProfile(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("missing profile: err = %v, want ENOTFOUND", err)
	}
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	want := trustbot.Profile{UserKey: alice, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: at}
	if err := db.SaveProfile(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := db.Profile(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := db.Profile(ctx, aliceElsewhere); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("other workspace sees the profile: %v", err)
	}
}

func testRecentTips(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range 250 {
		if err := db.RecordTipShown(ctx, alice, fmt.Sprintf("tip-%d", i), base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordTipShown(ctx, bob, "bobs-tip", base); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecentTips(ctx, alice, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tip-249", "tip-248", "tip-247"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recent = %v, want %v", got, want)
	}
	all, err := db.RecentTips(ctx, alice, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 200 {
		t.Fatalf("kept %d rows, want the newest 200", len(all))
	}
	bobs, err := db.RecentTips(ctx, bob, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(bobs) != 1 || bobs[0] != "bobs-tip" {
		t.Fatalf("bob's tips = %v", bobs)
	}
}

func testConcurrentWriters(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	var wg sync.WaitGroup
	const writers, rounds, calls = 8, 50, 3
	errs := make(chan error, writers*rounds*calls) // every call may fail: none may block
	for g := range writers {
		wg.Go(func() {
			k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%d", g)}
			for i := range rounds {
				if _, err := db.RecentTips(ctx, k, 5); err != nil {
					errs <- err
				}
				if err := db.RecordTipShown(ctx, k, fmt.Sprintf("t%d", i), time.Now()); err != nil {
					errs <- err
				}
				if err := db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write failed: %v", err)
	}
}

func testMoveJourneyIsFenced(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	due := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	j := trustbot.Journey{ID: "jmove", UserKey: alice, Kind: "cooling", State: trustbot.Active, Step: 1, Start: trustbot.DateOf(due), NextDueAt: due}
	if err := db.SaveJourney(ctx, j); err != nil {
		t.Fatal(err)
	}
	to := due.Add(14 * time.Hour)
	for _, tc := range []struct {
		name string
		k    trustbot.UserKey
		step int
		from time.Time
	}{
		{"another step", alice, 2, due},
		{"another due time", alice, 1, due.Add(time.Hour)},
		{"another user", bob, 1, due},
	} {
		if moved, err := db.MoveJourney(ctx, tc.k, j.ID, tc.step, tc.from, to); err != nil || moved {
			t.Errorf("%s: moved %v, err %v", tc.name, moved, err)
		}
	}
	if got, _ := db.Journey(ctx, alice, j.ID); !got.NextDueAt.Equal(due) {
		t.Fatalf("moved to %s by a fenced-off call", got.NextDueAt)
	}
	if moved, err := db.MoveJourney(ctx, alice, j.ID, 1, due, to); err != nil || !moved {
		t.Fatalf("moved %v, err %v", moved, err)
	}
	if got, _ := db.Journey(ctx, alice, j.ID); !got.NextDueAt.Equal(to) || got.Step != 1 {
		t.Fatalf("journey after the move: %+v", got)
	}
}

func testTwoDispatchersNeverClaimTwice(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	c := h.Again(t, a) // three replicas
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	const users = 200
	for i := range users {
		if err := a.SaveSchedule(ctx, Schedule(trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%03d", i)}, due)); err != nil {
			t.Fatal(err)
		}
	}
	// A claimer that does not advance the schedule claims the same
	// occurrence every time: only the unique key stands in the way.
	stuck := func(s trustbot.Schedule, _ trustbot.Prefs) (trustbot.Schedule, int) { return s, 0 }
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, db := range []*store.DB{a, b, c, a, b, c} {
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
	// Advancing claims the rest exactly once too, until nothing is due.
	total := len(seen)
	for range users {
		ds, err := b.ClaimDue(ctx, due, 64, WeekAdvance)
		if err != nil {
			t.Fatal(err)
		}
		total += len(ds)
		if left, err := b.DueSchedules(ctx, due, 1); err != nil || len(left) == 0 {
			break
		}
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

// testSkipPendingByPrefix: a stopped journey's pending follow-ups are
// skipped, and nothing else: not another journey's, not one already
// sent, not another user's.
func testSkipPendingByPrefix(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, d := range []trustbot.Delivery{
		{UserKey: alice, Kind: "journey", Occurrence: "j1:1"},
		{UserKey: alice, Kind: "journey", Occurrence: "j1:2"},
		{UserKey: alice, Kind: "journey", Occurrence: "j10:1"},
		{UserKey: alice, Kind: "journey", Occurrence: "j2:1"},
		{UserKey: bob, Kind: "journey", Occurrence: "j1:1"},
		{UserKey: alice, Kind: "checkin", Occurrence: "j1:1"},
	} {
		d.DueAt = due
		if ok, err := db.InsertDelivery(ctx, d); !ok || err != nil {
			t.Fatalf("insert %+v: %v %v", d, ok, err)
		}
	}
	ds, err := db.Deliverable(ctx, due, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.User == alice.User && d.Occurrence == "j1:2" {
			if ok, err := db.MarkSending(ctx, d.ID, "a", due); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
	}
	if err := db.SkipPending(ctx, alice, "journey", "j1:"); err != nil {
		t.Fatal(err)
	}
	left, err := db.Deliverable(ctx, due, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range left {
		got = append(got, d.User+" "+d.Kind+" "+d.Occurrence)
	}
	slices.Sort(got)
	want := []string{"UALICE checkin j1:1", "UALICE journey j10:1", "UALICE journey j2:1", "UBOB journey j1:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("pending after skipping j1: %v, want %v", got, want)
	}
}

// testChannelTips counts the tips posted in each channel, per workspace.
func testChannelTips(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	at := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, r := range []struct{ team, channel, tip string }{
		{"T1", "C1", "a"}, {"T1", "C1", "a"}, {"T1", "C1", "b"}, {"T1", "C2", "a"}, {"T2", "C1", "c"},
	} {
		if err := db.RecordChannelTip(ctx, r.team, r.channel, r.tip, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ChannelTips(ctx, "T1", "C1")
	if err != nil || len(got) != 2 || got["a"] != 2 || got["b"] != 1 {
		t.Fatalf("T1/C1: %v %v", got, err)
	}
	if got, err := db.ChannelTips(ctx, "T3", "C1"); err != nil || len(got) != 0 {
		t.Fatalf("a channel with none: %v %v", got, err)
	}
}

// testOtherTeams tells whether anything of another workspace is stored.
func testOtherTeams(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	if other, err := db.OtherTeams(ctx, "T1"); err != nil || other {
		t.Fatalf("empty database: %v %v", other, err)
	}
	if err := db.SaveSchedule(ctx, Schedule(alice, time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	if other, err := db.OtherTeams(ctx, alice.Team); err != nil || other {
		t.Fatalf("only %s's data: %v %v", alice.Team, other, err)
	}
	if other, err := db.OtherTeams(ctx, "T9"); err != nil || !other {
		t.Fatalf("seen from T9: %v %v", other, err)
	}
}

// testProbeAndVersion: the readiness probe writes, again and again, and
// the version is the newest migration's.
func testProbeAndVersion(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	for range 2 {
		if err := db.Probe(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	v, err := db.Version(ctx)
	if err != nil || v != h.Version {
		t.Fatalf("version %d (%v), want %d", v, err, h.Version)
	}
}

// testAnswersMergeAtOnce answers one check-in from many places at once
// (two stores, as two processes, several goroutines each): every choice
// is kept, none lost to another's write.
func testAnswersMergeAtOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	if ok, err := a.InsertDelivery(ctx, trustbot.Delivery{UserKey: alice, Kind: "checkin", Occurrence: "2026-11-27", DueAt: due}); !ok || err != nil {
		t.Fatalf("insert: %v %v", ok, err)
	}
	ds, err := a.Deliverable(ctx, due, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliverable: %v %v", ds, err)
	}
	const questions = 12
	var wg sync.WaitGroup
	for i := range questions {
		db := []*store.DB{a, b}[i%2]
		wg.Go(func() {
			q := fmt.Sprintf("q%02d", i)
			for {
				_, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: ds[0].ID, UserKey: alice, Choices: map[string]string{q: "yes"}, AnsweredAt: due})
				if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
					continue // busy for a moment: the user would try again
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		})
	}
	wg.Wait()
	got, err := a.SaveAnswers(ctx, trustbot.Answers{DeliveryID: ds[0].ID, UserKey: alice, AnsweredAt: due})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Choices) != questions {
		t.Fatalf("%d of %d choices kept: %v", len(got.Choices), questions, got.Choices)
	}
}

// testEveryClaimOnceAtOnce has two stores (two processes) claim due
// journey follow-ups and channel posts at once, each several times over:
// every one becomes exactly one delivery, and each is moved on once.
func testEveryClaimOnceAtOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	c := h.Again(t, a) // three replicas
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	const n = 60
	for i := range n {
		k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%03d", i)}
		if err := a.SaveJourney(ctx, trustbot.Journey{ID: fmt.Sprintf("j%03d", i), UserKey: k, Kind: "cooling", State: trustbot.Active,
			Start: trustbot.DateOf(due), Step: 1, NextDueAt: due}); err != nil {
			t.Fatal(err)
		}
		if err := a.SaveSubscription(ctx, trustbot.Subscription{Team: "T1", Channel: fmt.Sprintf("C%03d", i), Weekday: time.Friday, Minute: 420,
			Lang: "ja", TZ: "UTC", Active: true, Subscriber: k.User, Occurrence: trustbot.DateOf(due), NextDueAt: due}, k.User, ""); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	journeyOn := func(j trustbot.Journey, _ trustbot.Prefs) (trustbot.Journey, string) {
		key := fmt.Sprint(j.Step)
		j.Step++
		j.NextDueAt = j.NextDueAt.Add(7 * 24 * time.Hour)
		return j, key
	}
	weekOn := func(s trustbot.Subscription) (trustbot.Subscription, int) {
		s.Occurrence = s.Occurrence.AddDays(7)
		s.NextDueAt = s.NextDueAt.Add(7 * 24 * time.Hour)
		return s, 0
	}
	for _, db := range []*store.DB{a, b, c, a, b, c} {
		wg.Go(func() {
			for range 8 {
				js, err := db.ClaimDueJourneys(ctx, due, 7, journeyOn)
				if err != nil && trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
					t.Error(err)
					return
				}
				ws, err := db.ClaimDueSubscriptions(ctx, due, 7, weekOn)
				if err != nil && trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range append(js, ws...) {
					seen[d.Kind+" "+d.User+" "+d.Occurrence]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", k, c)
		}
	}
	// What the claimers left (each took at most 7 a time) is claimed now.
	for {
		js, err := a.ClaimDueJourneys(ctx, due, 100, journeyOn)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := a.ClaimDueSubscriptions(ctx, due, 100, weekOn)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(js, ws...) {
			seen[d.Kind+" "+d.User+" "+d.Occurrence]++
		}
		if len(js)+len(ws) == 0 {
			break
		}
	}
	if len(seen) != 2*n {
		t.Fatalf("%d deliveries, want %d", len(seen), 2*n)
	}
	for i := range n {
		k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%03d", i)}
		j, err := a.Journey(ctx, k, fmt.Sprintf("j%03d", i))
		if err != nil || j.Step != 2 {
			t.Fatalf("journey %d after the claims: step %d, %v; want moved on once", i, j.Step, err)
		}
		s, err := a.Subscription(ctx, "T1", fmt.Sprintf("C%03d", i))
		if err != nil || !s.NextDueAt.Equal(due.Add(7*24*time.Hour)) {
			t.Fatalf("subscription %d after the claims: due %s, %v; want moved on once", i, s.NextDueAt, err)
		}
	}
}

func testDeliveryLifecycle(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	if err := db.SaveSchedule(ctx, Schedule(alice, due)); err != nil {
		t.Fatal(err)
	}
	if ds, _ := db.ClaimDue(ctx, due.Add(-time.Second), 10, WeekAdvance); len(ds) != 0 {
		t.Fatalf("claimed %d before the due time", len(ds))
	}
	ds, err := db.ClaimDue(ctx, due, 10, WeekAdvance)
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
	stale, _ := db.StaleSending(ctx, due.Add(time.Minute), time.Now(), 10)
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

func testSettingsPrefs(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
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

func testSettingsKeepPrefsWhenLanguageChanges(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
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

func testLateSenderCannotOverwriteARequeue(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
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

func testConversations(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
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
		if created, err := db.SaveConversation(ctx, x); err != nil || !created {
			t.Fatalf("first save of %s: created %v, %v", x.Key, created, err)
		}
	}
	// A later activity refreshes the reference.
	c.ServiceURL, c.UpdatedAt = "https://smba.trafficmanager.net/apac/", at.Add(time.Hour)
	if created, err := db.SaveConversation(ctx, c); err != nil || created {
		t.Fatalf("second save: created %v, %v", created, err)
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
	// Added again after being removed: created again.
	if created, err := db.SaveConversation(ctx, c); err != nil || !created {
		t.Fatalf("save after the delete: created %v, %v", created, err)
	}
	if got, err := db.Conversation(ctx, user); err != nil || got != c {
		t.Fatalf("after the delete and a save: got %+v %v, want %+v", got, err, c)
	}
}

// testConversationCreatedOnce: saves of one new conversation reference,
// from two stores on the database at once (two replicas hearing of one
// installation), report it created exactly once; after a delete, once
// again. The reference kept is one of those saved, whole.
func testConversationCreatedOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	tenant := trustbot.TeamsWorkspace("5c2e9b7a-1d4f-4e8a-b3c6-0f9d8e7a6b5c")
	const users, rounds = 8, 2
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ref := func(i, writer int) trustbot.Conversation {
		return trustbot.Conversation{Key: trustbot.UserKey{Team: tenant, User: fmt.Sprintf("29:user-%d", i)}, ID: fmt.Sprintf("a:conv-%d", i),
			ServiceURL: fmt.Sprintf("https://smba.trafficmanager.net/w%d/", writer), BotID: "28:app", Name: fmt.Sprintf("writer %d", writer), UpdatedAt: at}
	}
	for round := range rounds {
		var mu sync.Mutex
		created := map[trustbot.UserKey]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w, db := range []*store.DB{a, b, a, b} {
			wg.Go(func() {
				<-start
				for i := range users {
					for {
						ok, err := db.SaveConversation(ctx, ref(i, w))
						if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
							continue // busy for a moment: the caller tries again
						}
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							mu.Lock()
							created[ref(i, w).Key]++
							mu.Unlock()
						}
						break
					}
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range users {
			k := ref(i, 0).Key
			if n := created[k]; n != 1 {
				t.Errorf("round %d: %s reported created %d times by four writers, want once", round, k.User, n)
			}
			got, err := a.Conversation(ctx, k)
			if err != nil {
				t.Fatalf("round %d: %s: %v", round, k.User, err)
			}
			if !slices.ContainsFunc([]int{0, 1, 2, 3}, func(w int) bool { return got == ref(i, w) }) {
				t.Errorf("round %d: kept %+v, not one of the references saved", round, got)
			}
			// The app removed: the next save creates it again.
			if err := b.DeleteConversation(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func testEncryptionAtRest(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	db.Keys = Keyring(t, 1)
	SeedUser(t, db, alice, "とても個人的なメモ")
	raw := h.bytes(t, db)
	for _, secretText := range []string{"とても個人的なメモ", "朝の挨拶を自分から", "秘密のラベル", "秘密の目標"} {
		if bytes.Contains(raw, []byte(secretText)) {
			t.Errorf("%q is readable in the database's files", secretText)
		}
		if places, err := db.Mentions(ctx, secretText); err != nil || len(places) > 0 {
			t.Errorf("%q is stored as it is in %v (%v)", secretText, places, err)
		}
	}
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 || rs[0].Answers.Note != "とても個人的なメモ" {
		t.Fatalf("reading back: %+v %v", rs, err)
	}
	j, err := db.Journey(ctx, alice, "j"+alice.User)
	if err != nil || j.Label != "秘密のラベル"+alice.User || j.Data.Goal != "秘密の目標"+alice.User {
		t.Fatalf("journey back: %+v %v", j, err)
	}

	// Rotate: a new key seals, the old one still opens; rekey moves every
	// value to the new key, after which the old key is not needed.
	db.Keys = Keyring(t, 2, 1)
	n, skipped, err := db.Rekey(ctx)
	if err != nil || n != 4 || skipped != 0 {
		t.Fatalf("rekey changed %d values, err %v; want 4 (note, action, label, data)", n, err)
	}
	db.Keys = Keyring(t, 2)
	if rs, err := db.Reflections(ctx, alice, "checkin", 5); err != nil || rs[0].Answers.Note != "とても個人的なメモ" {
		t.Fatalf("after rekey and dropping the old key: %+v %v", rs, err)
	}
	if n, _, _ := db.Rekey(ctx); n != 0 {
		t.Fatalf("a second rekey changed %d values", n)
	}
	// Without the key, sealed values cannot be read: left out, never
	// shown as garbage, and the answers chosen stay.
	db.Keys = nil
	if rs, err := db.Reflections(ctx, alice, "checkin", 5); err != nil || len(rs) != 1 || rs[0].Answers.Note != "" || rs[0].Answers.Choices["promises"] != "yes" {
		t.Fatalf("sealed notes without a key: %+v %v", rs, err)
	}
	if _, err := db.Journey(ctx, alice, "j"+alice.User); err == nil {
		t.Fatal("a sealed journey read without a key")
	}
}

func testForget(t *testing.T, h Harness) {
	t.Run("PlainText", func(t *testing.T) { testForgetWith(t, h, nil) })
	t.Run("Sealed", func(t *testing.T) { testForgetWith(t, h, Keyring(t, 1)) })
}

func testForgetWith(t *testing.T, h Harness, keys *secret.Keyring) {
	ctx := context.Background()
	db := h.Open(t)
	db.Keys = keys
	SeedUser(t, db, alice, "アリスのメモ")
	SeedUser(t, db, bob, "ボブのメモ")
	// Her note rewritten (the old version of the row is freed), and her
	// journey saved again, as a real user's are.
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 {
		t.Fatalf("reflections: %v %v", rs, err)
	}
	if _, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: rs[0].Delivery.ID, UserKey: alice, Note: "アリスの二つ目のメモ", AnsweredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A file of hers (and one of Bob's) waits behind a link.
	for _, k := range []trustbot.UserKey{alice, bob} {
		if err := db.PutFile(ctx, trustbot.LinkedFile{Token: "link-" + k.User, Owner: k, Name: "export-" + k.User + ".json",
			Data: []byte("書き出し" + k.User), Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	needles := []string{alice.User, "a:conv-" + alice.User, "書き出し" + alice.User, "アリスのメモ", "アリスの二つ目のメモ", "秘密のラベル" + alice.User, "秘密の目標" + alice.User, "朝の挨拶を自分から" + alice.User}
	u, err := db.Export(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range u.Deliveries {
		needles = append(needles, d.ID)
	}
	raw := h.SQL(t, db)
	if keys != nil {
		rows, err := raw.QueryContext(ctx, `SELECT note FROM reflections WHERE "user" = $1 UNION ALL SELECT action FROM reflections WHERE "user" = $1
			UNION ALL SELECT label FROM journeys WHERE "user" = $1 UNION ALL SELECT data FROM journeys WHERE "user" = $1`, alice.User)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			if !strings.HasPrefix(v, "enc1:") {
				t.Fatalf("not sealed: %q", v)
			}
			needles = append(needles, v[len(v)-24:]) // a piece of the ciphertext
		}
		rows.Close()
	}
	if err := db.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	// Look for Alice, and her note, in every column of every table.
	for _, needle := range []string{alice.User, "アリスのメモ"} {
		places, err := db.Mentions(ctx, needle)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range places {
			t.Errorf("%s still holds %q", p, needle)
		}
	}
	if bobs, err := db.Mentions(ctx, bob.User); err != nil || len(bobs) == 0 {
		t.Fatalf("forgetting Alice removed Bob too (%v)", err)
	}
	if h.Bytes == nil {
		return
	}
	b := h.bytes(t, db)
	for _, needle := range needles {
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("after forget, the files on disk still hold %q", needle)
		}
	}
	if keys == nil && !bytes.Contains(b, []byte("ボブのメモ")) {
		t.Error("Bob's note is not in the file: the scan cannot see plain text")
	}
}

// testCopyIntoAnEmptyStore moves a store's rows into another of the same
// kind: every table's count and every user's export come out the same,
// sealed text reads back with the same keys, and a store that holds data
// is refused with nothing written.
func testCopyIntoAnEmptyStore(t *testing.T, h Harness) {
	ctx := context.Background()
	keys := Keyring(t, 7)
	src := h.Open(t)
	src.Keys = keys
	SeedUser(t, src, alice, "アリスのメモ")
	SeedUser(t, src, bob, "ボブのメモ")
	if err := src.RecordTipShown(ctx, alice, "second-tip", time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	dst := h.Open(t)
	dst.Keys = keys
	copied, err := src.CopyTo(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	before, err := src.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) || !slices.Equal(copied, before) {
		t.Fatalf("rows per table: source %v, target %v, copied %v", before, after, copied)
	}
	for _, want := range []string{"settings", "profiles", "schedules", "deliveries", "reflections", "journeys", "tips_shown", "subscriptions", "subscription_changes", "conversations"} {
		if i := slices.IndexFunc(copied, func(c store.TableRows) bool { return c.Table == want }); i < 0 || copied[i].Rows == 0 {
			t.Errorf("table %s: nothing copied (%v)", want, copied)
		}
	}
	users, differ, err := src.SameExports(ctx, dst)
	if err != nil || differ != nil || users != 2 {
		t.Fatalf("exports compared: %d users, differ %v, %v", users, differ, err)
	}
	u, err := dst.Export(ctx, alice)
	if err != nil || len(u.Reflections) != 1 || u.Reflections[0].Note != "アリスのメモ" || len(u.TipsShown) != 2 {
		t.Fatalf("the copy's export: %+v %v", u, err)
	}
	// A changed copy is told apart from its source.
	if _, err := dst.SaveAnswers(ctx, trustbot.Answers{DeliveryID: u.Reflections[0].DeliveryID, UserKey: alice, Note: "ちがうメモ", AnsweredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, differ, err := src.SameExports(ctx, dst); err != nil || differ == nil || *differ != alice {
		t.Fatalf("a changed note was not told apart: %v %v", differ, err)
	}
	// Into a store that holds data: refused, nothing written.
	again := h.Open(t)
	SeedUser(t, again, bob, "ボブのメモ")
	held, _ := again.Counts(ctx)
	_, err = src.CopyTo(ctx, again)
	if te, ok := errors.AsType[*trustbot.Error](err); !ok || te.Code != trustbot.EINVALID || !strings.Contains(te.Message, "settings (1 rows)") {
		t.Fatalf("copy into a store with data: %v", err)
	}
	if now, _ := again.Counts(ctx); !slices.Equal(now, held) {
		t.Fatalf("the refused copy wrote: %v, was %v", now, held)
	}
}

// testSendSlots: slots of one key taken at once by two processes are
// each one interval after the one before, none shared; a pause holds
// every later slot back and concerns its key alone.
func testSendSlots(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	// A slot taken only when free: once per interval, whoever asks.
	taken := 0
	for _, db := range []*store.DB{a, b, a, b} {
		ok, err := db.TrySendSlot(ctx, "slack:T1:conversations.history", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			taken++
		}
	}
	if taken != 1 {
		t.Fatalf("%d slots taken within the interval, want 1", taken)
	}
	if err := a.BlockSends(ctx, "slack:T9:conversations.history", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TrySendSlot(ctx, "slack:T9:conversations.history", time.Millisecond); ok || err != nil {
		t.Fatalf("a slot taken during a pause: %v %v", ok, err)
	}
	if ok, err := b.TrySendSlot(ctx, "slack:T2:conversations.history", time.Hour); !ok || err != nil {
		t.Fatalf("another workspace's slot: %v %v", ok, err)
	}
	// Each take's slot is its wait after the moment it was taken, which
	// lies between the clock read before the take and the one after it:
	// the slot is known to that span, however long a loaded machine
	// takes over it.
	const n = 40
	type span struct{ lo, hi time.Time }
	slots := make([]span, n)
	var wg sync.WaitGroup
	for i := range n {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			before := time.Now()
			w, err := db.TakeSendSlot(ctx, "slack:T1:chat.postMessage", time.Second)
			if err != nil {
				t.Error(err)
			}
			slots[i] = span{before.Add(w), time.Now().Add(w)}
		})
	}
	wg.Wait()
	slices.SortFunc(slots, func(x, y span) int { return x.lo.Compare(y.lo) })
	// Slot i is i seconds after the first (none shared, none skipped):
	// its span and the first's, moved on by i seconds, overlap. The
	// database's clock counts in microseconds: a millisecond of slack.
	const slack = time.Millisecond
	for i, s := range slots {
		at := time.Duration(i) * time.Second
		if s.lo.After(slots[0].hi.Add(at+slack)) || s.hi.Before(slots[0].lo.Add(at-slack)) {
			t.Fatalf("slot %d is %v to %v after the first, want %v", i, s.lo.Sub(slots[0].hi), s.hi.Sub(slots[0].lo), at)
		}
	}
	if w, err := a.TakeSendSlot(ctx, "slack:T2:chat.postMessage", time.Second); err != nil || w != 0 {
		t.Fatalf("another workspace waits %v (%v)", w, err)
	}
	if d, err := a.SendsBlocked(ctx, "slack:T1:chat.postMessage"); err != nil || d != 0 {
		t.Fatalf("blocked before any 429: %v %v", d, err)
	}
	if d, err := a.SendsBlocked(ctx, "slack:T9:chat.postMessage"); err != nil || d != 0 {
		t.Fatalf("a key never used: %v %v", d, err)
	}
	// A pause of a minute: every process sees it, later slots wait for
	// it, and a shorter pause does not shorten it.
	if err := b.BlockSends(ctx, "slack:T2:chat.postMessage", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := a.BlockSends(ctx, "slack:T2:chat.postMessage", time.Second); err != nil {
		t.Fatal(err)
	}
	if d, err := a.SendsBlocked(ctx, "slack:T2:chat.postMessage"); err != nil || d < 50*time.Second || d > time.Minute {
		t.Fatalf("blocked for %v (%v), want about a minute", d, err)
	}
	if w, err := a.TakeSendSlot(ctx, "slack:T2:chat.postMessage", time.Second); err != nil || w < 50*time.Second || w > time.Minute {
		t.Fatalf("a slot during the pause waits %v (%v)", w, err)
	}
	if d, err := a.SendsBlocked(ctx, "slack:T3:chat.postMessage"); err != nil || d != 0 {
		t.Fatalf("another workspace is blocked: %v %v", d, err)
	}
	// A pause on a key never used before is kept too.
	if err := a.BlockSends(ctx, "slack:T4:chat.postMessage", time.Minute); err != nil {
		t.Fatal(err)
	}
	if w, err := b.TakeSendSlot(ctx, "slack:T4:chat.postMessage", time.Second); err != nil || w < 50*time.Second {
		t.Fatalf("a slot after a first pause waits %v (%v)", w, err)
	}
}

func testExportAndPurge(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	SeedUser(t, db, alice, "アリスのメモ")
	SeedUser(t, db, bob, "ボブのメモ")
	u, err := db.Export(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.Profile == nil || u.Schedule == nil || len(u.Reflections) != 1 || u.Reflections[0].Note != "アリスのメモ" ||
		len(u.Journeys) != 1 || len(u.TipsShown) != 1 || len(u.Subscribed) != 1 || len(u.Deliveries) == 0 {
		t.Fatalf("export: %+v", u)
	}
	for _, d := range u.Deliveries {
		if d.User != alice.User {
			t.Fatalf("export holds %s's delivery", d.User)
		}
	}
	// Retention: everything before the cut goes, except what is still active.
	n, err := db.Purge(ctx, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n == 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if rs, _ := db.Reflections(ctx, alice, "checkin", 5); len(rs) != 0 {
		t.Fatalf("old reflections kept: %+v", rs)
	}
	if js, _ := db.Journeys(ctx, alice, true); len(js) != 1 {
		t.Fatal("an active journey was purged")
	}
}

func testTextThatLooksSealedStaysText(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	SeedUser(t, db, alice, Lookalike)
	if err := db.SaveJourney(ctx, trustbot.Journey{ID: "jlook", UserKey: alice, Kind: "cooling", Label: Lookalike, State: trustbot.Active,
		Start: trustbot.DateOf(time.Now()), NextDueAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	j, err := db.Journey(ctx, alice, "jlook")
	if err != nil || j.Label != Lookalike {
		t.Fatalf("journey label: %q %v", j.Label, err)
	}
	rs, err := db.Reflections(ctx, alice, "checkin", 5)
	if err != nil || len(rs) != 1 || rs[0].Answers.Note != Lookalike {
		t.Fatalf("reflections: %+v %v", rs, err)
	}
	ds, err := db.ClaimDueJourneys(ctx, time.Now(), 10, func(j trustbot.Journey, _ trustbot.Prefs) (trustbot.Journey, string) {
		j.NextDueAt = time.Time{}
		return j, "d1"
	})
	if err != nil || !ClaimedJourney(ds, "jlook") {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if u, err := db.Export(ctx, alice); err != nil || u.Reflections[0].Note != Lookalike {
		t.Fatalf("export: %v", err)
	}
	if _, skipped, err := db.Rekey(ctx); err != nil || skipped != 0 {
		t.Fatalf("rekey: %d skipped, %v", skipped, err)
	}
	db.Keys = Keyring(t, 1)
	if n, skipped, err := db.Rekey(ctx); err != nil || skipped != 0 || n == 0 {
		t.Fatalf("rekey with a key: %d changed, %d skipped, %v", n, skipped, err)
	}
	if j, err := db.Journey(ctx, alice, "jlook"); err != nil || j.Label != Lookalike {
		t.Fatalf("after sealing: %q %v", j.Label, err)
	}
}

func testUnreadableRowsAreSkipped(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	var logs strings.Builder
	met := &CountingMetrics{}
	db.Logger, db.Metrics = slog.New(slog.NewTextHandler(&logs, nil)), met
	now := time.Now()
	db.Keys = Keyring(t, 1)
	SeedUser(t, db, alice, "sealed note")
	for _, id := range []string{"jsealed", "jsealed2"} {
		if err := db.SaveJourney(ctx, trustbot.Journey{ID: id, UserKey: alice, Kind: "cooling", Label: "secret label", State: trustbot.Active,
			Start: trustbot.DateOf(now), NextDueAt: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Keys = nil // the key is lost
	SeedUser(t, db, bob, "plain note")
	if err := db.SaveJourney(ctx, trustbot.Journey{ID: "jplain", UserKey: bob, Kind: "cooling", Label: "label", State: trustbot.Active,
		Start: trustbot.DateOf(now), NextDueAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}

	ds, err := db.ClaimDueJourneys(ctx, now, 10, func(j trustbot.Journey, _ trustbot.Prefs) (trustbot.Journey, string) {
		j.NextDueAt = time.Time{}
		return j, "d1"
	})
	if err != nil || !ClaimedJourney(ds, "jplain") || ClaimedJourney(ds, "jsealed") || ClaimedJourney(ds, "jsealed2") {
		t.Fatalf("claim: %+v %v; want bob's follow-up", ds, err)
	}
	if n := met.Unreadable(); n != 3 {
		t.Errorf("%d unreadable journeys counted, want 3 (with alice's seeded one)", n)
	}
	// The skipped ones wait: a second pass does not read them again.
	if _, err := db.ClaimDueJourneys(ctx, now, 10, func(j trustbot.Journey, _ trustbot.Prefs) (trustbot.Journey, string) { return j, "x" }); err != nil || met.Unreadable() != 3 {
		t.Fatalf("second claim: %v; %d counted, want still 3", err, met.Unreadable())
	}
	if js, err := db.Journeys(ctx, bob, false); err != nil || len(js) != 2 {
		t.Errorf("bob's journeys: %+v %v", js, err)
	}
	if js, err := db.Journeys(ctx, alice, false); err != nil || len(js) != 0 {
		t.Errorf("alice's journeys: %+v %v; want none readable, and no error", js, err)
	}
	if rs, err := db.Reflections(ctx, alice, "checkin", 5); err != nil || len(rs) != 1 || rs[0].Answers.Note != "" {
		t.Errorf("alice's history: %+v %v", rs, err)
	}
	if _, err := db.Export(ctx, alice); err != nil {
		t.Errorf("alice's export: %v", err)
	}
	if rs, err := db.Reflections(ctx, bob, "checkin", 5); err != nil || rs[0].Answers.Note != "plain note" {
		t.Errorf("bob's history: %+v %v", rs, err)
	}
	db.Keys = Keyring(t, 2)
	n, skipped, err := db.Rekey(ctx)
	if err != nil || skipped == 0 || n == 0 {
		t.Fatalf("rekey: %d changed, %d skipped, %v", n, skipped, err)
	}
	if rs, err := db.Reflections(ctx, bob, "checkin", 5); err != nil || rs[0].Answers.Note != "plain note" {
		t.Errorf("bob's history after rekey: %+v %v", rs, err)
	}
	if strings.Contains(logs.String(), "secret label") || !strings.Contains(logs.String(), "id=jsealed") {
		t.Errorf("logs should name the rows, never their text:\n%s", logs.String())
	}
}

func testCachedReadsFollowWrites(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	s, err := db.Settings(ctx, alice)
	if err != nil || s.Lang != trustbot.LangAuto {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("profile before any: %v", err)
	}
	s.Lang = "en"
	if err := db.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Lang != "en" {
		t.Fatalf("after SaveSettings: lang %q", s.Lang)
	}
	if err := db.SaveProfile(ctx, trustbot.Profile{UserKey: alice, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Prefs.TZ != "Asia/Tokyo" {
		t.Fatalf("after SaveProfile: zone %q", s.Prefs.TZ)
	}
	if p, err := db.Profile(ctx, alice); err != nil || p.Locale != "ja-JP" {
		t.Fatalf("after SaveProfile: %+v %v", p, err)
	}
	if err := db.Forget(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Settings(ctx, alice); s.Lang != trustbot.LangAuto || s.Prefs.TZ != "" {
		t.Fatalf("after Forget: %+v", s)
	}
	if _, err := db.Profile(ctx, alice); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("profile after Forget: %v", err)
	}
}

func testTipsShownWrittenInGroups(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		db.RecordTipShown(ctx, alice, id, at.Add(time.Duration(i)*time.Second))
		db.RecordTipShown(ctx, bob, id, at.Add(time.Duration(i)*time.Second))
	}
	if got, _ := db.RecentTips(ctx, alice, 30); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("recent before writing: %v", got)
	}
	db.RecordTipShown(ctx, alice, "d", at.Add(time.Minute))
	if got, _ := db.RecentTips(ctx, alice, 2); !slices.Equal(got, []string{"d", "c"}) {
		t.Fatalf("recent after one more: %v", got)
	}
	if err := db.Forget(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = h.Again(t, db)
	if got, _ := db.RecentTips(ctx, alice, 30); !slices.Equal(got, []string{"d", "c", "b", "a"}) {
		t.Fatalf("recent after reopening: %v", got)
	}
	if got, _ := db.RecentTips(ctx, bob, 30); len(got) != 0 {
		t.Fatalf("a forgotten user's tips came back: %v", got)
	}
	if m, err := db.Mentions(ctx, bob.User); err != nil || len(m) != 0 {
		t.Fatalf("bob still in %v (%v)", m, err)
	}
}

func WeekAdvance(s trustbot.Schedule, _ trustbot.Prefs) (trustbot.Schedule, int) {
	s.Occurrence = s.Occurrence.AddDays(7)
	s.NextDueAt = s.NextDueAt.Add(7 * 24 * time.Hour)
	return s, 0
}

func Schedule(k trustbot.UserKey, due time.Time) trustbot.Schedule {
	return trustbot.Schedule{UserKey: k, Cadence: trustbot.Weekly, Weekday: time.Friday, Minute: 960, Active: true,
		Occurrence: trustbot.DateOf(due), NextDueAt: due}
}

func SeedUser(t testing.TB, db *store.DB, k trustbot.UserKey, note string) {
	t.Helper()
	ctx := context.Background()
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SaveSettings(ctx, trustbot.Settings{UserKey: k, Lang: "ja", Prefs: trustbot.DefaultPrefs()}))
	must(db.SaveProfile(ctx, trustbot.Profile{UserKey: k, TZ: "Asia/Tokyo", Locale: "ja-JP", FetchedAt: due}))
	must(db.SaveSchedule(ctx, Schedule(k, due)))
	ds, err := db.ClaimDue(ctx, due, 10, WeekAdvance)
	must(err)
	for _, d := range ds {
		if d.User == k.User {
			db.MarkSending(ctx, d.ID, "a", due)
			if ok, err := db.MarkSent(ctx, d.ID, "a", trustbot.Posted{Channel: "D" + k.User, TS: "1.1"}, due); !ok || err != nil {
				t.Fatalf("mark sent: %v %v", ok, err)
			}
			_, err := db.SaveAnswers(ctx, trustbot.Answers{DeliveryID: d.ID, UserKey: k, Choices: map[string]string{"promises": "yes"}, Note: note, Action: "朝の挨拶を自分から" + k.User, AnsweredAt: due})
			must(err)
		}
	}
	must(db.SaveJourney(ctx, trustbot.Journey{ID: "j" + k.User, UserKey: k, Kind: "plan", Label: "秘密のラベル" + k.User, State: trustbot.Active,
		Start: trustbot.DateOf(due), Data: trustbot.JourneyData{Goal: "秘密の目標" + k.User, Stage: "some-unease", Horizon: 3}, NextDueAt: due.Add(24 * time.Hour)}))
	must(db.RecordTipShown(ctx, k, "cooling-work-only-first", due))
	_, err = db.SaveConversation(ctx, trustbot.Conversation{Key: k, ID: "a:conv-" + k.User, ServiceURL: "https://smba.example/teams/", BotID: "28:bot", UpdatedAt: due})
	must(err)
	must(db.SaveSubscription(ctx, trustbot.Subscription{Team: k.Team, Channel: "C" + k.User[1:] + "CH", Weekday: time.Monday, Minute: 540, Lang: "ja",
		TZ: "Asia/Tokyo", Active: true, Subscriber: k.User, NextDueAt: due}, k.User, "on"))
}

func Keyring(t testing.TB, keys ...byte) *secret.Keyring {
	t.Helper()
	var ks [][]byte
	for _, b := range keys {
		ks = append(ks, bytes.Repeat([]byte{b}, 32))
	}
	k, err := secret.NewKeyring(ks[0], ks[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ClaimedJourney(ds []trustbot.Delivery, id string) bool {
	for _, d := range ds {
		if strings.HasPrefix(d.Occurrence, id+":") {
			return true
		}
	}
	return false
}

// Where remembers where each store was opened (a file, a URL), for a
// Harness's Again, SQL and Bytes.
type Where struct {
	mu sync.Mutex
	m  map[*store.DB]string
}

// Put records that db was opened at at, and returns db.
func (w *Where) Put(db *store.DB, at string) *store.DB {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[*store.DB]string{}
	}
	w.m[db] = at
	return db
}

// Of returns where db was opened.
func (w *Where) Of(db *store.DB) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m[db]
}
