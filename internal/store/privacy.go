package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

const userDeliveriesWhere = `WHERE team = ? AND "user" = ? ORDER BY due_at`

// Export returns everything stored about the user.
func (db *DB) Export(ctx context.Context, k trustbot.UserKey) (trustbot.UserData, error) {
	u := trustbot.UserData{Team: k.Team, User: k.User, ExportedAt: db.Now().UTC(),
		Deliveries: []trustbot.Delivery{}, Reflections: []trustbot.Answers{}, Journeys: []trustbot.Journey{}, TipsShown: []string{}, Subscribed: []trustbot.Subscription{}}
	// The "tip shown" records waiting in memory are part of the export.
	if err := db.flushTips(ctx); err != nil {
		return u, db.formatError(err)
	}
	var err error
	if u.Settings, err = db.Settings(ctx, k); err != nil {
		return u, err
	}
	if p, err := db.Profile(ctx, k); err == nil {
		u.Profile = &p
	}
	if s, err := db.Schedule(ctx, k); err == nil {
		u.Schedule = &s
	}
	if u.Deliveries, err = db.deliveries(ctx, userDeliveriesWhere, k.Team, k.User); err != nil {
		return u, err
	}
	for _, d := range u.Deliveries {
		a, err := db.answers(ctx, db.read, k, d.ID)
		if _, ok := errors.AsType[*unreadableError](err); ok {
			db.skipped(err) // the answers chosen stay; the text is left out
		} else if err != nil {
			return u, db.formatError(err)
		}
		if len(a.Choices) > 0 || a.Note != "" || a.Action != "" {
			u.Reflections = append(u.Reflections, a)
		}
	}
	if u.Journeys, err = db.Journeys(ctx, k, false); err != nil {
		return u, err
	}
	if u.TipsShown, err = db.RecentTips(ctx, k, tipsKept); err != nil {
		return u, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE team = ? AND subscriber = ?`, k.Team, k.User)
	if err != nil {
		return u, db.formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return u, db.formatError(err)
		}
		u.Subscribed = append(u.Subscribed, s)
	}
	return u, db.formatError(rows.Err())
}

// Forget deletes every row about the user, and then whatever the database
// keeps of them (Config.Erased: SQLite empties its WAL). Channel
// subscriptions they set up stay for the channel, without their ID.
func (db *DB) Forget(ctx context.Context, k trustbot.UserKey) error {
	// No "tip shown" record is written meanwhile: none of the user's can
	// come back after the delete.
	db.tips.mu.Lock()
	defer db.tips.mu.Unlock()
	db.dropPendingTips(k)
	delete(db.tips.since, k)
	defer db.forgetCached(k)
	if err := db.forget(ctx, k); err != nil {
		return err
	}
	return db.erased(ctx)
}

// erased runs Config.Erased.
func (db *DB) erased(ctx context.Context) error {
	if db.cfg.Erased == nil {
		return nil
	}
	return db.cfg.Erased(ctx)
}

func (db *DB) forget(ctx context.Context, k trustbot.UserKey) error {
	return db.Tx(ctx, func(tx *Tx) error {
		for _, q := range []string{
			`DELETE FROM reflections WHERE team = ? AND "user" = ?`,
			`DELETE FROM deliveries WHERE team = ? AND "user" = ?`,
			`DELETE FROM journeys WHERE team = ? AND "user" = ?`,
			`DELETE FROM schedules WHERE team = ? AND "user" = ?`,
			`DELETE FROM tips_shown WHERE team = ? AND "user" = ?`,
			`DELETE FROM profiles WHERE team = ? AND "user" = ?`,
			`DELETE FROM conversations WHERE team = ? AND "user" = ?`,
			`DELETE FROM file_links WHERE team = ? AND "user" = ?`,
			`DELETE FROM settings WHERE team = ? AND "user" = ?`,
			`DELETE FROM subscription_changes WHERE team = ? AND "user" = ?`,
			`UPDATE subscriptions SET subscriber = '' WHERE team = ? AND subscriber = ?`,
			`UPDATE installations SET installer = '' WHERE team = ? AND installer = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, k.Team, k.User); err != nil {
				return fmt.Errorf("forget: %w", err)
			}
		}
		return nil
	})
}

// Purge deletes what is older than before: reflections and the deliveries
// they answer, finished or stopped journeys, old tips shown. It returns how
// many rows went. As with Forget, Config.Erased then takes them off the
// storage.
func (db *DB) Purge(ctx context.Context, before time.Time) (int64, error) {
	return db.purge(ctx, before, nil)
}

// purge deletes what is older than before in one transaction, first
// running fence in it when set (it refuses when the caller's lease is
// gone).
func (db *DB) purge(ctx context.Context, before time.Time, fence func(*Tx) error) (int64, error) {
	if db.c != nil {
		defer db.c.recent.reset()
	}
	var total int64
	err := db.Tx(ctx, func(tx *Tx) error {
		if fence != nil {
			if err := fence(tx); err != nil {
				return err
			}
		}
		cut := before.Unix()
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{`DELETE FROM reflections WHERE delivery_id IN (SELECT id FROM deliveries WHERE due_at < ? AND state IN ('sent', 'skipped', 'failed'))`, cut},
			{`DELETE FROM deliveries WHERE due_at < ? AND state IN ('sent', 'skipped', 'failed')`, cut},
			{`DELETE FROM journeys WHERE state IN ('finished', 'stopped') AND updated_at < ?`, cut},
			{`DELETE FROM tips_shown WHERE shown_at < ?`, before.Unix() * 1000},
			{`DELETE FROM subscription_changes WHERE at < ?`, cut},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.arg)
			if err != nil {
				return fmt.Errorf("purge: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil || total == 0 {
		return total, err
	}
	return total, db.erased(ctx)
}

// Rekey seals every stored free-text value with the current key (or, with
// sealing off, stores it as plain text again), and records for each row
// whether it is sealed. A row that cannot be read (sealed with a key that
// is not configured) is logged, counted and left as it is. It returns how
// many values changed and how many rows were left.
func (db *DB) Rekey(ctx context.Context) (changed, skipped int, err error) {
	err = db.Tx(ctx, func(tx *Tx) error {
		for _, t := range []struct{ table, key, a, b string }{
			{"reflections", "delivery_id", "note", "action"},
			{"journeys", "id", "label", "data"},
			{"installations", "id", "bot_token", "refresh_token"},
			{"file_links", "token_hash", "name", "data"},
		} {
			rows, err := tx.QueryContext(ctx, `SELECT `+t.key+`, `+t.a+`, `+t.b+`, sealed FROM `+t.table)
			if err != nil {
				return err
			}
			type row struct {
				id     string
				values [2]string
				sealed sql.NullBool
			}
			var stale []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.values[0], &r.values[1], &r.sealed); err != nil {
					rows.Close()
					return err
				}
				if !db.current(r.sealed, r.values[:]) {
					stale = append(stale, r)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range stale {
				var plain [2]string
				var err error
				for i, v := range r.values {
					if plain[i], err = db.reveal(r.sealed, v); err != nil {
						break
					}
				}
				if err != nil {
					db.skipped(unreadable(t.table, r.id, err))
					skipped++
					continue
				}
				text, sealed, err := db.seal(plain[:]...)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+t.table+` SET `+t.a+` = ?, `+t.b+` = ?, sealed = ? WHERE `+t.key+` = ?`,
					text[0], text[1], sealed, r.id); err != nil {
					return err
				}
				for i := range text {
					if text[i] != r.values[i] {
						changed++
					}
				}
			}
		}
		return nil
	})
	return changed, skipped, err
}

// current reports whether a row's values are stored as the keys would
// store them now, with the mark recorded.
func (db *DB) current(sealed sql.NullBool, values []string) bool {
	if !sealed.Valid || sealed.Bool != db.Keys.Sealing() {
		return false
	}
	for _, v := range values {
		if sealed.Bool && v != "" && !db.Keys.Current(v) {
			return false
		}
	}
	return true
}

// OtherTeams reports whether the database holds anything of a workspace
// other than team (the console uses it to keep away from Slack users'
// check-ins in a shared file).
func (db *DB) OtherTeams(ctx context.Context, team string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM schedules WHERE team != ? LIMIT 1) AS s) +
		(SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE team != ? LIMIT 1) AS d) +
		(SELECT count(*) FROM (SELECT 1 FROM journeys WHERE team != ? LIMIT 1) AS j) +
		(SELECT count(*) FROM (SELECT 1 FROM subscriptions WHERE team != ? LIMIT 1) AS w)`, team, team, team, team).Scan(&n)
	return n > 0, db.formatError(err)
}

// Mentions lists every place ("table.column") where a stored value contains
// needle, in every table: after Forget, a user's ID should be nowhere.
func (db *DB) Mentions(ctx context.Context, needle string) ([]string, error) {
	if err := db.flushTips(ctx); err != nil {
		return nil, db.formatError(err)
	}
	rows, err := db.read.QueryContext(ctx, db.d.TablesSQL)
	if err != nil {
		return nil, db.formatError(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, db.formatError(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var out []string
	for _, table := range tables {
		rows, err := db.read.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			return nil, db.formatError(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, db.formatError(err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				if strings.Contains(s, needle) {
					out = append(out, table+"."+cols[i])
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, db.formatError(err)
		}
	}
	return out, nil
}
