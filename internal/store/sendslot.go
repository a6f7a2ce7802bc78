package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// The send rate that processes sharing a database keep together: a row
// per key (platform, workspace, method) with the next free slot and a
// pause until which nothing goes, on the database's clock, so that the
// clocks of the hosts do not matter. Taking a slot is one statement
// (GCRA's "next slot"): the slot is the later of now, the next free slot
// and the end of the pause, and the next free slot moves one interval
// past it.

// sendSlotSQL returns q with NOW standing for the database's clock and
// GREATEST for its greatest-of function, both in Unix microseconds.
func (db *DB) sendSlotSQL(q string) string {
	return strings.NewReplacer("NOW", db.d.NowMicros, "GREATEST", db.d.Greatest).Replace(q)
}

// TakeSendSlot reserves the next send of key, interval after the one
// before, and returns how long to wait before sending.
func (db *DB) TakeSendSlot(ctx context.Context, key string, interval time.Duration) (time.Duration, error) {
	step := interval.Microseconds()
	var wait int64
	err := db.write.QueryRowContext(ctx, db.d.rebind(db.sendSlotSQL(`
		INSERT INTO send_slots (key, next_at, blocked_until) VALUES (?, NOW + ?, 0)
		ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(send_slots.next_at, send_slots.blocked_until, NOW) + ?
		RETURNING next_at - ? - NOW`)), key, step, step, step).Scan(&wait)
	return max(time.Duration(wait)*time.Microsecond, 0), db.formatError(err)
}

// TrySendSlot takes the slot of key only when it is free now: no slot
// taken within interval before, no pause. It reports whether it did.
func (db *DB) TrySendSlot(ctx context.Context, key string, interval time.Duration) (bool, error) {
	step := interval.Microseconds()
	n, err := db.exec(ctx, db.sendSlotSQL(`
		INSERT INTO send_slots (key, next_at, blocked_until) VALUES (?, NOW + ?, 0)
		ON CONFLICT (key) DO UPDATE SET next_at = NOW + ?
		WHERE GREATEST(send_slots.next_at, send_slots.blocked_until) <= NOW`), key, step, step)
	return n > 0, db.formatError(err)
}

// BlockSends pauses every send of key for d from now (a 429's
// Retry-After), unless a longer pause holds already.
func (db *DB) BlockSends(ctx context.Context, key string, d time.Duration) error {
	_, err := db.write.ExecContext(ctx, db.d.rebind(db.sendSlotSQL(`
		INSERT INTO send_slots (key, next_at, blocked_until) VALUES (?, NOW, NOW + ?)
		ON CONFLICT (key) DO UPDATE SET blocked_until = GREATEST(send_slots.blocked_until, NOW + ?)`)), key, d.Microseconds(), d.Microseconds())
	return db.formatError(err)
}

// SendsBlocked returns how long the sends of key are paused from now;
// zero when they are not.
func (db *DB) SendsBlocked(ctx context.Context, key string) (time.Duration, error) {
	var left int64
	err := db.write.QueryRowContext(ctx, db.d.rebind(db.sendSlotSQL(`SELECT blocked_until - NOW FROM send_slots WHERE key = ?`)), key).Scan(&left)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return max(time.Duration(left)*time.Microsecond, 0), db.formatError(err)
}

// SendSlots returns the store as the send rate that every process on the
// database keeps together, when other processes write it (a store that
// may not cache); nil when this process is the only one: it paces in
// memory then, with no write per send.
func (db *DB) SendSlots() trustbot.SendSlots {
	if db.c != nil {
		return nil
	}
	return db
}
