package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// SaveConversation creates or replaces the conversation reference for
// c.Key, and reports whether it created it. Of saves that race for a key
// with no reference, from one process or several, one creates it.
func (db *DB) SaveConversation(ctx context.Context, c trustbot.Conversation) (bool, error) {
	var created bool
	err := db.Tx(ctx, func(tx *Tx) error {
		// Inserted, or else updated: a reference another process deletes
		// between the two (the app removed meanwhile) is inserted on the
		// next round.
		created = false
		for range 3 {
			res, err := tx.ExecContext(ctx, `INSERT INTO conversations (team, "user", conversation, service_url, bot, channel, name, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team, "user") DO NOTHING`,
				c.Key.Team, c.Key.User, c.ID, c.ServiceURL, c.BotID, c.Channel, c.Name, c.UpdatedAt.UnixMilli())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				created = err == nil
				return err
			}
			res, err = tx.ExecContext(ctx, `UPDATE conversations SET conversation = ?, service_url = ?, bot = ?, channel = ?, name = ?, updated_at = ?
				WHERE team = ? AND "user" = ?`,
				c.ID, c.ServiceURL, c.BotID, c.Channel, c.Name, c.UpdatedAt.UnixMilli(), c.Key.Team, c.Key.User)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				return err
			}
		}
		return trustbot.Errorf(trustbot.EUNAVAILABLE, "conversation reference for %s deleted under every save", c.Key)
	})
	return created, err
}

// Conversation returns the conversation reference for k.
func (db *DB) Conversation(ctx context.Context, k trustbot.UserKey) (trustbot.Conversation, error) {
	c := trustbot.Conversation{Key: k}
	var updated int64
	err := db.read.QueryRowContext(ctx, `SELECT conversation, service_url, bot, channel, name, updated_at FROM conversations
		WHERE team = ? AND "user" = ?`, k.Team, k.User).Scan(&c.ID, &c.ServiceURL, &c.BotID, &c.Channel, &c.Name, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, trustbot.Errorf(trustbot.ENOTFOUND, "no conversation for %s", k)
	}
	c.UpdatedAt = time.UnixMilli(updated).UTC()
	return c, db.formatError(err)
}

// DeleteConversation removes the conversation reference for k.
func (db *DB) DeleteConversation(ctx context.Context, k trustbot.UserKey) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE team = ? AND "user" = ?`, k.Team, k.User)
		return err
	})
}
