package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/store"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// testReplicaLeases: a delivery left sending by a replica whose lease has
// ended is stale at once; one a live replica sends is stale only when it
// is old. A lease that ended is not renewed.
func testReplicaLeases(t *testing.T, h Harness) {
	ctx := context.Background()
	db := h.Open(t)
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, r := range []trustbot.Replica{
		{ID: "rlive", Host: "h1", PID: 10, Started: now, Expires: now.Add(15 * time.Second)},
		{ID: "rgone", Host: "h2", PID: 10, Started: now, Expires: now.Add(15 * time.Second)},
	} {
		if err := db.RegisterReplica(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	for i, attempt := range []string{"rlive.1", "rgone.1", "old-style-attempt"} {
		k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%d", i)}
		if _, err := db.InsertDelivery(ctx, trustbot.Delivery{UserKey: k, Kind: "checkin", Occurrence: "2026-11-27", DueAt: now}); err != nil {
			t.Fatal(err)
		}
		ds, err := db.ClaimSending(ctx, now, now, "rtmp", 1)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim: %v %v", ds, err)
		}
		// Handed back, then taken under the attempt the test names.
		if ok, err := db.Requeue(ctx, ds[0].ID, ds[0].Attempt, now, "test"); !ok || err != nil {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		if ok, err := db.MarkSending(ctx, ds[0].ID, attempt, now); !ok || err != nil {
			t.Fatalf("mark sending: %v %v", ok, err)
		}
		ids[attempt] = ds[0].ID
	}
	stale := func(before, at time.Time) []string {
		t.Helper()
		ds, err := db.StaleSending(ctx, before, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Attempt)
		}
		return out
	}
	if got := stale(now.Add(-time.Minute), now.Add(time.Second)); strings.Join(got, " ") != "old-style-attempt" {
		t.Fatalf("stale while both leases run: %v, want only the attempt of no replica", got)
	}
	if ok, err := db.RenewReplica(ctx, "rlive", now.Add(10*time.Second), now.Add(25*time.Second)); !ok || err != nil {
		t.Fatalf("renew a running lease: %v %v", ok, err)
	}
	// At now+20s rgone's lease has ended, rlive's runs to now+25s.
	at := now.Add(20 * time.Second)
	if ok, err := db.RenewReplica(ctx, "rgone", at, at.Add(15*time.Second)); ok || err != nil {
		t.Fatalf("a lease that ended was renewed: %v %v", ok, err)
	}
	got := stale(now.Add(-time.Minute), at)
	if len(got) != 2 || !contains(got, "rgone.1") || !contains(got, "old-style-attempt") {
		t.Fatalf("stale once rgone's lease ended: %v", got)
	}
	if got := stale(now.Add(time.Second), at); len(got) != 3 {
		t.Fatalf("stale by age: %v, want all three", got)
	}
	rs, err := db.Replicas(ctx, at)
	if err != nil || len(rs) != 1 || rs[0].ID != "rlive" || rs[0].Host != "h1" || rs[0].PID != 10 || !rs[0].Expires.Equal(now.Add(25*time.Second)) {
		t.Fatalf("live replicas: %+v %v", rs, err)
	}
	if err := db.ReleaseReplica(ctx, "rlive"); err != nil {
		t.Fatal(err)
	}
	if got := stale(now.Add(-time.Minute), at); len(got) != 3 {
		t.Fatalf("stale once rlive released its lease: %v, want all three", got)
	}
	if err := db.RegisterReplica(ctx, trustbot.Replica{ID: "rnew", Host: "h1", Started: at, Expires: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.EndReplicas(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.Replicas(ctx, at); len(rs) != 0 {
		t.Fatalf("replicas after EndReplicas: %+v", rs)
	}
	// The one sending under attempt is the only one Sending names.
	if ok, _ := db.Sending(ctx, ids["rgone.1"], "rgone.1"); !ok {
		t.Fatal("Sending: the delivery's own attempt is not sending")
	}
	if ok, _ := db.Sending(ctx, ids["rgone.1"], "rlive.1"); ok {
		t.Fatal("Sending: another attempt counts as sending the delivery")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// testNamedLeases: one holder at a time; a holder whose time ended cannot
// renew or release what another took, and the new holder's token is
// greater.
func testNamedLeases(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	la, ok, err := a.AcquireLease(ctx, "purge", "ra", now, now.Add(15*time.Second))
	if !ok || err != nil || la.Token < 1 {
		t.Fatalf("first acquire: %+v %v %v", la, ok, err)
	}
	if _, ok, err := b.AcquireLease(ctx, "purge", "rb", now.Add(time.Second), now.Add(16*time.Second)); ok || err != nil {
		t.Fatalf("a lease held was taken: %v %v", ok, err)
	}
	if _, ok, err := b.AcquireLease(ctx, "reconcile", "rb", now, now.Add(15*time.Second)); !ok || err != nil {
		t.Fatalf("another lease's name: %v %v", ok, err)
	}
	if ok, err := a.RenewLease(ctx, la, now.Add(5*time.Second), now.Add(20*time.Second)); !ok || err != nil {
		t.Fatalf("renew: %v %v", ok, err)
	}
	later := now.Add(21 * time.Second)
	lb, ok, err := b.AcquireLease(ctx, "purge", "rb", later, later.Add(15*time.Second))
	if !ok || err != nil || lb.Token <= la.Token {
		t.Fatalf("acquire once ended: %+v %v %v (first token %d)", lb, ok, err, la.Token)
	}
	if ok, err := a.RenewLease(ctx, la, later, later.Add(15*time.Second)); ok || err != nil {
		t.Fatalf("the former holder renewed: %v %v", ok, err)
	}
	// The former holder's purge is refused and deletes nothing; the new
	// holder's goes through.
	old := trustbot.UserKey{Team: "T1", User: "UOLD"}
	if _, err := a.InsertDelivery(ctx, trustbot.Delivery{UserKey: old, Kind: "checkin", Occurrence: "2026-01-01", DueAt: now.AddDate(0, -6, 0)}); err != nil {
		t.Fatal(err)
	}
	ds, err := a.ClaimSending(ctx, now, now, "ra", 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if ok, err := a.MarkSent(ctx, ds[0].ID, ds[0].Attempt, trustbot.Posted{Channel: "D", TS: "1"}, now); !ok || err != nil {
		t.Fatalf("mark sent: %v %v", ok, err)
	}
	if n, err := a.PurgeUnder(ctx, la, later, now); trustbot.ErrorCode(err) != trustbot.ECONFLICT || n != 0 {
		t.Fatalf("the former holder's purge: %d %v, want refused", n, err)
	}
	if _, err := a.Delivery(ctx, old, ds[0].ID); err != nil {
		t.Fatalf("the refused purge deleted: %v", err)
	}
	if n, err := b.PurgeUnder(ctx, lb, later, now); err != nil || n < 1 {
		t.Fatalf("the holder's purge: %d %v", n, err)
	}
	if _, err := a.Delivery(ctx, old, ds[0].ID); trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
		t.Fatalf("the holder's purge left the old delivery: %v", err)
	}
	if err := a.ReleaseLease(ctx, la); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.RenewLease(ctx, lb, later.Add(time.Second), later.Add(20*time.Second)); !ok {
		t.Fatal("the former holder's release ended the new holder's lease")
	}
	if err := b.ReleaseLease(ctx, lb); err != nil {
		t.Fatal(err)
	}
	lc, ok, err := a.AcquireLease(ctx, "purge", "ra", later.Add(2*time.Second), later.Add(17*time.Second))
	if !ok || err != nil || lc.Token <= lb.Token {
		t.Fatalf("acquire once released: %+v %v %v", lc, ok, err)
	}
	// Two at once: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	at := later.Add(time.Hour)
	for i, db := range []*store.DB{a, b, h.Again(t, a)} {
		wg.Go(func() {
			_, ok, err := db.AcquireLease(ctx, "race", fmt.Sprintf("r%d", i), at, at.Add(time.Minute))
			if err != nil && trustbot.ErrorCode(err) != trustbot.EUNAVAILABLE {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d holders of one lease at once", won)
	}
}

// testHandledOnce: a request key is handled once, until it is purged.
func testHandledOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	first := map[string]int{}
	for _, db := range []*store.DB{a, b, a, b} {
		wg.Go(func() {
			for i := range 20 {
				key := fmt.Sprintf("slack:env:%d", i)
				ok, err := db.Handled(ctx, key, now)
				if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					first[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k, n := range first {
		if n != 1 {
			t.Errorf("%s handled %d times", k, n)
		}
	}
	if ok, _ := a.Handled(ctx, "slack:env:0", now.Add(time.Hour)); ok {
		t.Fatal("a key handled an hour ago is handled again")
	}
	if ok, _ := a.Handled(ctx, "slack:env:late", now.Add(25*time.Hour)); !ok {
		t.Fatal("a new key is not handled")
	}
	n, err := a.PurgeHandled(ctx, now.Add(24*time.Hour))
	if err != nil || n < 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if ok, _ := a.Handled(ctx, "slack:env:0", now.Add(25*time.Hour)); !ok {
		t.Fatal("a purged key is still there")
	}
	if ok, _ := a.Handled(ctx, "slack:env:late", now.Add(25*time.Hour)); ok {
		t.Fatal("a key newer than the purge went")
	}
}

// testHandledAll: keys recorded in batches, by two stores at once, are
// each new once: across batches and within one.
func testHandledAll(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := h.Again(t, a)
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	got, err := a.HandledAll(ctx, []string{"slack:k1", "slack:k2", "slack:k1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first batch: %v, want %v", got, want)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	first := map[string]int{}
	for _, db := range []*store.DB{a, b, a, b} {
		wg.Go(func() {
			for i := 0; i < 40; i += 8 {
				var keys []string
				for j := i; j < i+8; j++ {
					keys = append(keys, fmt.Sprintf("slack:batch:%d", j))
				}
				keys = append(keys, "slack:k2")
				got, err := db.HandledAll(ctx, keys, now)
				if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) != len(keys) {
					t.Errorf("%d answers for %d keys", len(got), len(keys))
					return
				}
				mu.Lock()
				for k, ok := range got {
					if ok {
						first[keys[k]]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first["slack:k2"] != 0 {
		t.Errorf("a key recorded before is new again %d times", first["slack:k2"])
	}
	for k, n := range first {
		if n != 1 {
			t.Errorf("%s new %d times", k, n)
		}
	}
	if len(first) == 0 {
		t.Error("no batch went through")
	}
}

// testClaimSendingAtOnce: three stores on one database (three replicas)
// claim pending deliveries at once: each is taken by one replica, under
// an attempt of that replica, and together they take them all.
func testClaimSendingAtOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	dbs := []*store.DB{a, h.Again(t, a), h.Again(t, a)}
	due := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	const n = 240
	for i := range n {
		k := trustbot.UserKey{Team: "T1", User: fmt.Sprintf("U%03d", i)}
		if _, err := a.InsertDelivery(ctx, trustbot.Delivery{UserKey: k, Kind: "checkin", Occurrence: "2026-11-27", DueAt: due.Add(-time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	// Not yet due: nothing taken.
	if ds, err := a.ClaimSending(ctx, due.Add(-time.Duration(n)*time.Second), due, "r0", 5); err != nil || len(ds) != 0 {
		t.Fatalf("claimed before due: %d %v", len(ds), err)
	}
	var (
		mu    sync.Mutex
		taken = map[string]string{}
		per   = map[string]int{}
		wg    sync.WaitGroup
	)
	for i, db := range dbs {
		for w := range 3 {
			replica := fmt.Sprintf("r%d", i)
			wg.Go(func() {
				for range 200 {
					ds, err := db.ClaimSending(ctx, due, due, replica, 1+w)
					if trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						if prev, ok := taken[d.ID]; ok {
							t.Errorf("%s claimed by %s and %s", d.ID, prev, replica)
						}
						taken[d.ID] = replica
						per[replica]++
						if d.State != trustbot.Sending || trustbot.AttemptReplica(d.Attempt) != replica || d.Attempts != 1 || !d.SendingAt.Equal(due) {
							t.Errorf("claimed delivery: %+v, want sending under an attempt of %s", d, replica)
						}
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(taken) != n {
		t.Fatalf("%d of %d claimed", len(taken), n)
	}
	if left, _ := a.Deliverable(ctx, due, 10); len(left) != 0 {
		t.Fatalf("%d left pending", len(left))
	}
	t.Logf("claims per replica: %v", per)
	// A claim names its replica: with one replica's lease running, what
	// the other two hold is stale (they are gone), and its own is not.
	live := "r0"
	for r, c := range per {
		if c > per[live] {
			live = r
		}
	}
	if err := a.RegisterReplica(ctx, trustbot.Replica{ID: live, Started: due, Expires: due.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	stale, err := a.StaleSending(ctx, due.Add(-time.Hour), due, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != n-per[live] {
		t.Fatalf("%d stale, want the %d of the replicas without a lease", len(stale), n-per[live])
	}
	for _, d := range stale {
		if taken[d.ID] == live {
			t.Fatalf("a live replica's claim is stale: %+v", d)
		}
	}
	if err := a.ReleaseReplica(ctx, live); err != nil {
		t.Fatal(err)
	}
	if stale, err = a.StaleSending(ctx, due.Add(-time.Hour), due, 1000); err != nil || len(stale) != n {
		t.Fatalf("%d stale once every lease ended, want %d: %v", len(stale), n, err)
	}
	// A requeued delivery is claimed again under a new attempt.
	d := stale[0]
	if ok, err := a.Requeue(ctx, d.ID, d.Attempt, due, "test"); !ok || err != nil {
		t.Fatalf("requeue: %v %v", ok, err)
	}
	ds, err := a.ClaimSending(ctx, due, due, "r9", 10)
	if err != nil || len(ds) != 1 || ds[0].Attempt == d.Attempt || ds[0].Attempts != 2 || trustbot.AttemptReplica(ds[0].Attempt) != "r9" {
		t.Fatalf("claimed again: %+v %v (was %q)", ds, err, d.Attempt)
	}
}
