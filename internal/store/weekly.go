package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

const subscriptionCols = `team, channel, weekday, minute, lang, topics, tz, holidays, active, stopped, subscriber, occurrence, next_due_at`

func scanSubscription(row scanner) (trustbot.Subscription, error) {
	var (
		s                  trustbot.Subscription
		wd                 int
		topics, occurrence string
		due                sql.NullInt64
	)
	if err := row.Scan(&s.Team, &s.Channel, &wd, &s.Minute, &s.Lang, &topics, &s.TZ, &s.Holidays, &s.Active, &s.Stopped,
		&s.Subscriber, &occurrence, &due); err != nil {
		return s, err
	}
	s.Weekday = time.Weekday(wd)
	s.Occurrence, _ = trustbot.ParseDate(occurrence)
	if due.Valid {
		s.NextDueAt = time.Unix(due.Int64, 0).UTC()
	}
	return s, json.Unmarshal([]byte(topics), &s.Topics)
}

// Subscription returns a channel's subscription.
func (db *DB) Subscription(ctx context.Context, team, channel string) (trustbot.Subscription, error) {
	s, err := scanSubscription(db.read.QueryRowContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE team = ? AND channel = ?`, team, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return s, trustbot.Errorf(trustbot.ENOTFOUND, "no subscription for %s/%s", team, channel)
	}
	return s, db.formatError(err)
}

// SaveSubscription creates or replaces a subscription and records the change.
func (db *DB) SaveSubscription(ctx context.Context, s trustbot.Subscription, by, change string) error {
	return db.Tx(ctx, func(tx *Tx) error {
		if err := saveSubscription(ctx, tx, s, db.Now()); err != nil {
			return err
		}
		if change == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO subscription_changes (team, channel, "user", change, at) VALUES (?, ?, ?, ?, ?)`,
			s.Team, s.Channel, by, change, db.Now().Unix())
		return err
	})
}

func saveSubscription(ctx context.Context, tx *Tx, s trustbot.Subscription, now time.Time) error {
	var due any
	if s.Active && !s.NextDueAt.IsZero() {
		due = s.NextDueAt.Unix()
	}
	if s.Topics == nil {
		s.Topics = []string{}
	}
	topics, _ := json.Marshal(s.Topics)
	occurrence := ""
	if !s.Occurrence.IsZero() {
		occurrence = s.Occurrence.String()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (team, channel) DO UPDATE SET weekday = excluded.weekday, minute = excluded.minute, lang = excluded.lang,
			topics = excluded.topics, tz = excluded.tz, holidays = excluded.holidays, active = excluded.active,
			stopped = excluded.stopped, subscriber = excluded.subscriber, occurrence = excluded.occurrence,
			next_due_at = excluded.next_due_at, updated_at = excluded.updated_at`,
		s.Team, s.Channel, int(s.Weekday), s.Minute, s.Lang, string(topics), s.TZ, s.Holidays, s.Active, s.Stopped,
		s.Subscriber, occurrence, due, now.Unix())
	return err
}

const claimDueSubscriptionsSQL = `SELECT ` + subscriptionCols + ` FROM subscriptions
	WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?`

// ClaimDueSubscriptions claims due channel posts in one transaction.
func (db *DB) ClaimDueSubscriptions(ctx context.Context, now time.Time, limit int, advance func(trustbot.Subscription) (trustbot.Subscription, int)) ([]trustbot.Delivery, error) {
	var out []trustbot.Delivery
	err := db.Tx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, claimDueSubscriptionsSQL+db.d.ClaimLock("subscriptions"), now.Unix(), limit)
		if err != nil {
			return err
		}
		var list []trustbot.Subscription
		for rows.Next() {
			s, err := scanSubscription(rows)
			if err != nil {
				rows.Close()
				return err
			}
			list = append(list, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, s := range list {
			next, missed := advance(s)
			del := trustbot.Delivery{UserKey: trustbot.UserKey{Team: s.Team, User: s.Channel}, Kind: "weekly",
				Occurrence: s.Occurrence.String(), DueAt: s.NextDueAt, Missed: missed}
			if err := claimed(ctx, tx, &out, del, now); err != nil {
				return err
			}
			if err := saveSubscription(ctx, tx, next, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChannelTips counts the tips posted in a channel.
func (db *DB) ChannelTips(ctx context.Context, team, channel string) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT tip_id, count(*) FROM channel_tips WHERE team = ? AND channel = ? GROUP BY tip_id`, team, channel)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, db.formatError(err)
		}
		out[id] = n
	}
	return out, db.formatError(rows.Err())
}

// RecordChannelTip notes a tip posted in a channel.
func (db *DB) RecordChannelTip(ctx context.Context, team, channel, tipID string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO channel_tips (team, channel, tip_id, posted_at) VALUES (?, ?, ?, ?)`, team, channel, tipID, at.Unix())
	return err
}
