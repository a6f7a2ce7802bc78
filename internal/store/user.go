package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Settings returns the user's settings, or the defaults. Prefs.TZ is the
// zone of the cached profile.
func (db *DB) Settings(ctx context.Context, k trustbot.UserKey) (trustbot.Settings, error) {
	if db.c == nil {
		return db.readSettings(ctx, k)
	}
	now := time.Now()
	s, gen, ok := db.c.settings.get(k, now)
	if ok {
		return s, nil
	}
	s, err := db.readSettings(ctx, k)
	if err == nil {
		db.c.settings.put(k, s, gen, now)
	}
	return s, err
}

func (db *DB) readSettings(ctx context.Context, k trustbot.UserKey) (trustbot.Settings, error) {
	s := trustbot.Settings{UserKey: k, Lang: trustbot.LangAuto, Prefs: trustbot.DefaultPrefs()}
	var paused int64
	followups := true
	err := db.read.QueryRowContext(ctx, `SELECT s.lang, s.workdays, s.quiet_start, s.quiet_end, s.holidays, s.paused_until, s.tryit_followups
		FROM settings s WHERE s.team = ? AND s."user" = ?`, k.Team, k.User).
		Scan(&s.Lang, &s.Prefs.Workdays, &s.Prefs.QuietStart, &s.Prefs.QuietEnd, &s.Prefs.Holidays, &paused, &followups)
	s.NoTryitFollowups = !followups
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, db.formatError(err)
	}
	if paused > 0 {
		s.Prefs.PausedUntil = time.Unix(paused, 0).UTC()
	}
	err = db.read.QueryRowContext(ctx, `SELECT tz FROM profiles WHERE team = ? AND "user" = ?`, k.Team, k.User).Scan(&s.Prefs.TZ)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	return s, db.formatError(err)
}

// SaveSettings creates or replaces the user's settings (all but the time
// zone, which belongs to the profile).
func (db *DB) SaveSettings(ctx context.Context, s trustbot.Settings) error {
	if db.c != nil {
		defer db.c.settings.update(s.UserKey, nil)
	}
	return db.Tx(ctx, func(tx *Tx) error { return saveSettings(ctx, tx, s, db.Now()) })
}

func saveSettings(ctx context.Context, tx *Tx, s trustbot.Settings, now time.Time) error {
	var paused int64
	if !s.Prefs.PausedUntil.IsZero() {
		paused = s.Prefs.PausedUntil.Unix()
	}
	if s.Prefs.Workdays == 0 {
		s.Prefs.Workdays = trustbot.MondayToFriday
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (team, "user", lang, workdays, quiet_start, quiet_end, holidays, paused_until, tryit_followups, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (team, "user") DO UPDATE SET lang = excluded.lang, workdays = excluded.workdays,
			quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, holidays = excluded.holidays,
			paused_until = excluded.paused_until, tryit_followups = excluded.tryit_followups, updated_at = excluded.updated_at`,
		s.Team, s.User, s.Lang, s.Prefs.Workdays, s.Prefs.QuietStart, s.Prefs.QuietEnd, s.Prefs.Holidays, paused, !s.NoTryitFollowups, now.Unix())
	return err
}

// Profile returns the cached platform profile.
func (db *DB) Profile(ctx context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	if db.c == nil {
		return db.readProfile(ctx, k)
	}
	now := time.Now()
	r, gen, ok := db.c.profiles.get(k, now)
	if !ok {
		p, err := db.readProfile(ctx, k)
		if err != nil && trustbot.ErrorCode(err) != trustbot.ENOTFOUND {
			return p, err
		}
		r = profileRead{p: p, found: err == nil}
		db.c.profiles.put(k, r, gen, now)
	}
	if !r.found {
		return r.p, trustbot.Errorf(trustbot.ENOTFOUND, "no profile for %s", k)
	}
	return r.p, nil
}

func (db *DB) readProfile(ctx context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	p := trustbot.Profile{UserKey: k}
	var fetched int64
	err := db.read.QueryRowContext(ctx, `SELECT tz, locale, fetched_at FROM profiles WHERE team = ? AND "user" = ?`,
		k.Team, k.User).Scan(&p.TZ, &p.Locale, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return p, trustbot.Errorf(trustbot.ENOTFOUND, "no profile for %s", k)
	}
	p.FetchedAt = time.Unix(fetched, 0).UTC()
	return p, db.formatError(err)
}

// SaveProfile caches a platform profile. A cached read of the user's
// profile is brought up to date with it, as it reads back, so that the
// next command needs no read of it.
func (db *DB) SaveProfile(ctx context.Context, p trustbot.Profile) error {
	err := db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO profiles (team, "user", tz, locale, fetched_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (team, "user") DO UPDATE SET tz = excluded.tz, locale = excluded.locale, fetched_at = excluded.fetched_at`,
			p.Team, p.User, p.TZ, p.Locale, p.FetchedAt.Unix())
		return err
	})
	if db.c != nil {
		db.c.settings.update(p.UserKey, nil) // Settings carry the zone
		saved := trustbot.Profile{UserKey: p.UserKey, TZ: p.TZ, Locale: p.Locale, FetchedAt: time.Unix(p.FetchedAt.Unix(), 0).UTC()}
		db.c.profiles.update(p.UserKey, func(r *profileRead) bool {
			if err != nil {
				return false // what the database holds is unknown: read it again
			}
			*r = profileRead{p: saved, found: true}
			return true
		})
	}
	return err
}

// DroppedTips is how many "tip shown" records were dropped unwritten
// since Open, the database having taken no writes for too long.
func (db *DB) DroppedTips() uint64 {
	if db.c == nil {
		return 0
	}
	db.c.tipMu.Lock()
	defer db.c.tipMu.Unlock()
	return db.c.dropped
}

func (db *DB) tipsDropped(n int) {
	if db.Logger != nil {
		db.Logger.Warn("the database takes no writes: the oldest waiting tip-shown records are dropped", "dropped", n)
	}
	if db.Metrics != nil {
		for range n {
			db.Metrics.Fault(trustbot.FaultTipsDropped)
		}
	}
}

// tipsKept is how many shown tips are kept per user; older rows are
// deleted as new ones come.
const tipsKept = 200

// WaitingTips is how many "tip shown" records wait in memory.
func (db *DB) WaitingTips() int {
	if db.c == nil {
		return 0
	}
	db.c.tipMu.Lock()
	defer db.c.tipMu.Unlock()
	return len(db.c.pending)
}

// RecordTipShown notes that a tip was shown. A store that caches writes
// the record with others a moment later (see tipFlushQuiet), and until
// then RecentTips and Export see it all the same; one that does not
// writes it now.
func (db *DB) RecordTipShown(ctx context.Context, k trustbot.UserKey, tipID string, t time.Time) error {
	r := shownTip{k: k, id: tipID, at: t.UnixMilli()}
	if db.c == nil {
		db.tips.mu.Lock()
		defer db.tips.mu.Unlock()
		return db.writeTips(ctx, []shownTip{r})
	}
	db.c.tipMu.Lock()
	db.c.pending = append(db.c.pending, r)
	db.c.last = time.Now()
	full := len(db.c.pending) >= tipFlushMax
	dropped := 0
	if len(db.c.pending) > tipWaitMax {
		dropped = max(1, tipWaitMax/10)
		db.c.pending = slices.Delete(db.c.pending, 0, dropped)
		db.c.removed += uint64(dropped)
		db.c.dropped += uint64(dropped)
	}
	db.c.tipMu.Unlock()
	if dropped > 0 {
		db.tipsDropped(dropped)
	}
	db.c.recent.update(k, func(v *recentTips) bool {
		v.tips = addTip(v.limit, r, v.tips)
		return true
	})
	select {
	case db.c.added <- struct{}{}:
	default:
	}
	if full {
		select {
		case db.c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// RecentTips returns the last n tips shown, newest first.
func (db *DB) RecentTips(ctx context.Context, k trustbot.UserKey, n int) ([]string, error) {
	ids, err := db.AppendRecentTips(ctx, nil, k, n)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{} // none: an empty list, as an export writes it
	}
	return ids, nil
}

// AppendRecentTips appends the last n tips shown, newest first, to dst.
func (db *DB) AppendRecentTips(ctx context.Context, dst []string, k trustbot.UserKey, n int) ([]string, error) {
	if db.c == nil {
		rows, err := db.readRecentTips(ctx, k, min(n, tipsKept))
		return appendTipIDs(dst, rows), err
	}
	now := time.Now()
	// The cached list changes in place with each record (addTip): its
	// IDs are copied under the cache's lock.
	ids := dst
	gen, ok := db.c.recent.read(k, now, func(v *recentTips) bool {
		if n > v.limit {
			return false
		}
		ids = appendTipIDs(dst, v.tips[:min(n, len(v.tips))])
		return true
	})
	if ok {
		return ids, nil
	}
	// The waiting records are taken before the table is read: a flush
	// writes its records before it takes them off the waiting list, so each
	// record is in one or the other (or both: mergeTips keeps it once).
	// Read the other way round, a flush between the two reads hid its
	// records from both.
	pending := db.pendingTips(k)
	if db.betweenTipReads != nil {
		db.betweenTipReads()
	}
	rows, err := db.readRecentTips(ctx, k, n)
	if err != nil {
		return dst, err
	}
	slices.Reverse(pending)
	v := recentTips{tips: mergeTips(min(n, tipsKept), pending, rows), limit: n}
	ids = appendTipIDs(dst, v.tips[:min(n, len(v.tips))])
	db.c.recent.put(k, v, gen, now) // the cache's from here on
	return ids, nil
}

func appendTipIDs(dst []string, tips []shownTip) []string {
	dst = slices.Grow(dst, len(tips))
	for _, r := range tips {
		dst = append(dst, r.id)
	}
	return dst
}

func (db *DB) readRecentTips(ctx context.Context, k trustbot.UserKey, n int) ([]shownTip, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT tip_id, shown_at FROM tips_shown WHERE team = ? AND "user" = ?
		ORDER BY shown_at DESC, rowid DESC LIMIT ?`, k.Team, k.User, n)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []shownTip
	for rows.Next() {
		r := shownTip{k: k}
		if err := rows.Scan(&r.id, &r.at); err != nil {
			return nil, db.formatError(err)
		}
		out = append(out, r)
	}
	return out, db.formatError(rows.Err())
}
