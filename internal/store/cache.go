package store

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// A store that caches (Config.Cache) keeps what a slash command reads about
// its user (settings, the cached platform profile, the tips shown lately)
// in memory for a short while, and writes the "tip shown" records in
// groups. Its process is the only writer of those rows (the console keeps
// its own database), and every write to them here updates or drops the
// entry, so the cache is never stale; cacheTTL only bounds how long an
// idle user's entry stays. A store that other processes write too (several
// replicas on one PostgreSQL database) does not cache: a pause or a
// language written through another replica must hold at once here, and no
// time to live short enough for that would leave a cache worth keeping.
const (
	cacheTTL   = 5 * time.Minute
	cacheUsers = 20_000 // entries per cache before it is emptied and refilled
)

// "Tip shown" records are written in groups, in one transaction, once no
// new record has come for tipFlushQuiet: a burst of commands is answered
// first and its records are written after it, not in its midst. Under
// steady load a record waits at most tipFlushEvery, and a group of
// tipFlushMax records is written at once. A crash loses at most those
// records: the user may then be shown a tip they just saw once more, which
// they would hardly notice; a process that stops normally writes them all
// on Close. A flush that fails is tried again every tipFlushRetry.
const (
	tipFlushQuiet = 20 * time.Millisecond
	tipFlushEvery = time.Second
	tipFlushMax   = 2048
	tipFlushRetry = 100 * time.Millisecond
	tipTrimEvery  = 32
)

// tipWaitMax bounds the records waiting while the database takes no
// writes (locked by another process, or full): past it the oldest are
// dropped, a tenth at a time, and counted (DroppedTips, the tips_dropped
// fault). A dropped record costs what a crash would: that tip may be shown
// again. 10,000 records are about a megabyte.
var tipWaitMax = 10_000

// entry is one user's cached value. gen changes with every write to the
// user's rows, so that a read that started before a write never stores
// what it read after it.
type entry[V any] struct {
	v      V
	loaded bool
	at     time.Time
	gen    uint64
}

// userCache maps users to entries.
type userCache[V any] struct {
	mu sync.Mutex
	m  map[trustbot.UserKey]*entry[V]
}

func newUserCache[V any]() *userCache[V] {
	return &userCache[V]{m: map[trustbot.UserKey]*entry[V]{}}
}

// get returns the cached value, or the generation to pass to put after
// reading it from the database.
func (c *userCache[V]) get(k trustbot.UserKey, now time.Time) (v V, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entryLocked(k)
	if e.loaded && now.Sub(e.at) < cacheTTL {
		return e.v, e.gen, true
	}
	return v, e.gen, false
}

// entryLocked returns k's entry, made empty if there is none (the cache
// starting over when it is full). c.mu must be held.
func (c *userCache[V]) entryLocked(k trustbot.UserKey) *entry[V] {
	e := c.m[k]
	if e == nil {
		if len(c.m) >= cacheUsers {
			clear(c.m)
		}
		e = &entry[V]{}
		c.m[k] = e
	}
	return e
}

// put stores v read from the database, unless the user's rows were written
// since get.
func (c *userCache[V]) put(k trustbot.UserKey, v V, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[k]; e != nil && e.gen == gen {
		e.v, e.loaded, e.at = v, true, now
	}
}

// update marks a write to the user's rows; when the entry is loaded, fn
// brings it up to date (returning false drops it instead).
func (c *userCache[V]) update(k trustbot.UserKey, fn func(v *V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		return
	}
	e.gen++
	if e.loaded && (fn == nil || !fn(&e.v)) {
		e.loaded = false
	}
}

// read calls fn with the cached value under the cache's lock, if it is
// loaded and fresh, and returns the generation to pass to put otherwise:
// for values that update changes in place, which only a reader under the
// lock may see.
func (c *userCache[V]) read(k trustbot.UserKey, now time.Time, fn func(v *V) bool) (gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entryLocked(k)
	if e.loaded && now.Sub(e.at) < cacheTTL && fn(&e.v) {
		return e.gen, true
	}
	return e.gen, false
}

// reset drops every entry.
func (c *userCache[V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = map[trustbot.UserKey]*entry[V]{}
}

// profileRead is a cached Profile answer, "none" included.
type profileRead struct {
	p     trustbot.Profile
	found bool
}

// shownTip is one "tip shown" record.
type shownTip struct {
	k  trustbot.UserKey
	id string
	at int64 // Unix milliseconds
}

// recentTips is a user's newest tips shown, newest first, as read with
// limit (the list is shorter only when there are no more).
type recentTips struct {
	tips  []shownTip
	limit int
}

// caches are the DB's in-memory state.
type caches struct {
	settings *userCache[trustbot.Settings]
	profiles *userCache[profileRead]
	recent   *userCache[recentTips]

	tipMu   sync.Mutex
	pending []shownTip    // recorded, not written yet (kept until written or dropped)
	last    time.Time     // when the newest record was added; under tipMu
	removed uint64        // records ever taken off the front of pending; under tipMu
	dropped uint64        // records dropped unwritten; under tipMu
	quiet   time.Duration // tipFlushQuiet, but in tests
	every   time.Duration // tipFlushEvery, but in tests
	groups  uint64        // groups of records written; under tipMu
	added   chan struct{} // a record was added
	kick    chan struct{} // a full group is waiting
	stop    chan struct{}
	stopped chan struct{}
}

// tipTrim counts each user's "tip shown" records written since their
// history was last trimmed. Its lock makes one write of records at a
// time; Forget holds it to delete.
type tipTrim struct {
	mu    sync.Mutex
	since map[trustbot.UserKey]int
}

func newCaches() *caches {
	return &caches{
		settings: newUserCache[trustbot.Settings](),
		profiles: newUserCache[profileRead](),
		recent:   newUserCache[recentTips](),
		quiet:    tipFlushQuiet,
		every:    tipFlushEvery,
		added:    make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
}

// flusher writes the waiting "tip shown" records when the moment comes
// (see tipFlushQuiet), until Close.
func (db *DB) flusher() {
	defer close(db.c.stopped)
	failing := false
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	sleep := func(d time.Duration) bool {
		t.Reset(d)
		select {
		case <-db.c.stop:
			return false
		case <-t.C:
			return true
		}
	}
	for {
		if db.WaitingTips() == 0 {
			select {
			case <-db.c.stop:
				return
			case <-db.c.added:
			}
		}
		if !db.awaitFlush(t) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), db.cfg.FlushTimeout+time.Second)
		err := db.flushTips(ctx)
		cancel()
		if failing = db.flushed(err, failing); failing && !sleep(tipFlushRetry) {
			return
		}
	}
}

// awaitFlush waits, on t, until the records waiting should be written: no
// new one for tipFlushQuiet, tipFlushEvery since it began, or a full
// group. It returns false when the store is closed meanwhile.
func (db *DB) awaitFlush(t *time.Timer) bool {
	begun := time.Now()
	for {
		db.c.tipMu.Lock()
		last := db.c.last
		db.c.tipMu.Unlock()
		now := time.Now()
		quiet, left := db.c.quiet-now.Sub(last), db.c.every-now.Sub(begun)
		if quiet <= 0 || left <= 0 {
			return true
		}
		t.Reset(min(quiet, left))
		select {
		case <-db.c.stop:
			return false
		case <-db.c.kick:
			return true
		case <-t.C:
		}
	}
}

// flushed logs the first flush of a run that fails and the first that
// goes through after it; it returns whether the flush failed. Nothing is
// lost meanwhile: the records wait in memory for the next flush. (The
// logger is read only then: a flush that fails had records to write, put
// there after the logger was set.)
func (db *DB) flushed(err error, failing bool) bool {
	switch {
	case err != nil && !failing:
		if db.Logger != nil {
			db.Logger.Warn("\"tip shown\" records not written yet: they wait in memory and are tried again", "err", err)
		}
	case err == nil && failing:
		if db.Logger != nil {
			db.Logger.Info("\"tip shown\" records written again")
		}
	}
	return err != nil
}

// Flush writes the "tip shown" records waiting in memory, if any.
func (db *DB) Flush(ctx context.Context) error { return db.flushTips(ctx) }

// flushTips writes the waiting "tip shown" records in one transaction and
// trims each user's history to tipsKept.
func (db *DB) flushTips(ctx context.Context) error {
	if db.c == nil {
		return nil
	}
	db.tips.mu.Lock()
	defer db.tips.mu.Unlock()
	db.c.tipMu.Lock()
	batch := slices.Clone(db.c.pending)
	first := db.c.removed // the position of batch[0] in the sequence of records
	db.c.tipMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := db.writeTips(ctx, batch); err != nil {
		return err // kept waiting: the next flush tries again
	}
	db.c.tipMu.Lock()
	// Records dropped meanwhile were taken off the front already.
	if n := first + uint64(len(batch)) - min(db.c.removed, first+uint64(len(batch))); n > 0 {
		db.c.pending = slices.Delete(db.c.pending, 0, int(n))
		db.c.removed += n
	}
	db.c.groups++
	db.c.tipMu.Unlock()
	for _, r := range batch {
		// A read under way while the records left the waiting list is
		// not cached: the next read goes to the table.
		db.c.recent.update(r.k, func(*recentTips) bool { return true })
	}
	return nil
}

// writeTips writes "tip shown" records in one transaction, and trims the
// history of each user who had tipTrimEvery records added since their
// last trim: it never holds more than tipsKept plus that many rows (for
// each process writing them), and RecentTips reads no further than
// tipsKept. The caller holds db.tips.mu.
func (db *DB) writeTips(ctx context.Context, batch []shownTip) error {
	trim := map[trustbot.UserKey]bool{}
	if len(db.tips.since) > cacheUsers {
		clear(db.tips.since) // those users are trimmed a little later
	}
	for _, r := range batch {
		if db.tips.since[r.k]++; db.tips.since[r.k] >= tipTrimEvery {
			trim[r.k] = true
		}
	}
	err := db.Tx(ctx, func(tx *Tx) error {
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), 100)
			args := make([]any, 0, 4*n)
			for _, r := range rest[:n] {
				args = append(args, r.k.Team, r.k.User, r.id, r.at)
			}
			q := `INSERT INTO tips_shown (team, "user", tip_id, shown_at) VALUES (?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?)`, n-1)
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		for k := range trim {
			if _, err := tx.ExecContext(ctx, `DELETE FROM tips_shown WHERE team = ? AND "user" = ? AND rowid NOT IN (
				SELECT rowid FROM tips_shown WHERE team = ? AND "user" = ? ORDER BY shown_at DESC, rowid DESC LIMIT ?)`,
				k.Team, k.User, k.Team, k.User, tipsKept); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, r := range batch {
			db.tips.since[r.k]--
		}
		return err
	}
	for k := range trim {
		delete(db.tips.since, k)
	}
	return nil
}

// pendingTips returns k's waiting records.
func (db *DB) pendingTips(k trustbot.UserKey) []shownTip {
	if db.c == nil {
		return nil
	}
	db.c.tipMu.Lock()
	defer db.c.tipMu.Unlock()
	var out []shownTip
	for _, r := range db.c.pending {
		if r.k == k {
			out = append(out, r)
		}
	}
	return out
}

// dropPendingTips forgets k's waiting records.
func (db *DB) dropPendingTips(k trustbot.UserKey) {
	if db.c == nil {
		return
	}
	db.c.tipMu.Lock()
	defer db.c.tipMu.Unlock()
	db.c.pending = slices.DeleteFunc(db.c.pending, func(r shownTip) bool { return r.k == k })
}

// forgetCached drops everything held in memory about k.
func (db *DB) forgetCached(k trustbot.UserKey) {
	if db.c == nil {
		return
	}
	db.c.settings.update(k, nil)
	db.c.profiles.update(k, nil)
	db.c.recent.update(k, nil)
}

// closeCaches stops the flusher and writes what waits.
func (db *DB) closeCaches() error {
	select {
	case <-db.c.stop:
		return nil
	default:
	}
	close(db.c.stop)
	<-db.c.stopped
	ctx, cancel := context.WithTimeout(context.Background(), db.cfg.FlushTimeout+time.Second)
	defer cancel()
	return db.flushTips(ctx)
}

// addTip is mergeTips(n, []shownTip{r}, tips) for tips already merged:
// r goes before the first tip not newer than it, and not again where it
// was. It works in place: tips is changed, and the result shares its
// array (which grows to n once, when it has fewer). The cached lists are
// changed only under their cache's lock, and read under it (see
// userCache.read), so no reader holds one while it changes.
func addTip(n int, r shownTip, tips []shownTip) []shownTip {
	if n <= 0 {
		return tips[:0]
	}
	// Only records of r's very time can be r itself.
	tips = slices.DeleteFunc(tips, func(t shownTip) bool { return t == r })
	at := 0 // the first tip not newer than r
	for at < len(tips) && tips[at].at > r.at {
		at++
	}
	if at >= n {
		return tips[:n]
	}
	if len(tips) < n {
		if cap(tips) < n {
			tips = slices.Grow(tips, n-len(tips))
		}
		tips = tips[:len(tips)+1]
	} else {
		tips = tips[:n]
	}
	copy(tips[at+1:], tips[at:len(tips)-1])
	tips[at] = r
	return tips
}

// mergeTips merges newest-first lists of records, without repeats, newest
// first, at most n.
func mergeTips(n int, lists ...[]shownTip) []shownTip {
	var all []shownTip
	seen := map[shownTip]bool{}
	for _, l := range lists {
		for _, r := range l {
			if !seen[r] {
				seen[r] = true
				all = append(all, r)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b shownTip) int {
		switch {
		case a.at > b.at:
			return -1
		case a.at < b.at:
			return 1
		}
		return 0
	})
	return all[:min(n, len(all))]
}
