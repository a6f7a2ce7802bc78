package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// SaveConversation creates or replaces the conversation reference for
// c.Key.
func (db *DB) SaveConversation(ctx context.Context, c trustbot.Conversation) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations (team, "user", conversation, service_url, bot, channel, name, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (team, "user") DO UPDATE SET conversation = excluded.conversation, service_url = excluded.service_url,
				bot = excluded.bot, channel = excluded.channel, name = excluded.name, updated_at = excluded.updated_at`,
			c.Key.Team, c.Key.User, c.ID, c.ServiceURL, c.BotID, c.Channel, c.Name, c.UpdatedAt.UnixMilli())
		return err
	})
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
