package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Replicas, leases and handled requests: what lets several processes
// share the database. Instants here are Unix milliseconds: leases last
// seconds.

func ms(t time.Time) int64 { return t.UnixMilli() }

// RegisterReplica records a replica starting.
func (db *DB) RegisterReplica(ctx context.Context, r trustbot.Replica) error {
	_, err := db.exec(ctx, `INSERT INTO replicas (id, host, pid, started_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`, r.ID, r.Host, r.PID, ms(r.Started), ms(r.Expires))
	return err
}

// EndReplicas ends every replica's lease: the caller knows them gone (it
// holds SQLite's instance lock, which one process holds at a time).
func (db *DB) EndReplicas(ctx context.Context) error {
	_, err := db.exec(ctx, `UPDATE replicas SET expires_at = 0`)
	return err
}

// RenewReplica moves a replica's lease on, unless it ended by now.
func (db *DB) RenewReplica(ctx context.Context, id string, now, expires time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE replicas SET expires_at = ? WHERE id = ? AND expires_at > ?`, ms(expires), id, ms(now))
	return n == 1, err
}

// ReleaseReplica ends a replica's lease.
func (db *DB) ReleaseReplica(ctx context.Context, id string) error {
	_, err := db.exec(ctx, `DELETE FROM replicas WHERE id = ?`, id)
	return err
}

// Replicas returns the replicas whose lease runs at now, oldest first.
func (db *DB) Replicas(ctx context.Context, now time.Time) ([]trustbot.Replica, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, host, pid, started_at, expires_at FROM replicas WHERE expires_at > ? ORDER BY started_at, id`, ms(now))
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []trustbot.Replica
	for rows.Next() {
		var r trustbot.Replica
		var started, expires int64
		if err := rows.Scan(&r.ID, &r.Host, &r.PID, &started, &expires); err != nil {
			return nil, db.formatError(err)
		}
		r.Started, r.Expires = time.UnixMilli(started).UTC(), time.UnixMilli(expires).UTC()
		out = append(out, r)
	}
	return out, db.formatError(rows.Err())
}

// AcquireLease takes the named lease when it is free or its holder's time
// ended. A new holder gets the next token.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, now, expires time.Time) (trustbot.Lease, bool, error) {
	l := trustbot.Lease{Name: name, Holder: holder, Expires: expires}
	err := db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, 1, ?) ON CONFLICT (name) DO NOTHING`,
			name, holder, ms(expires))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			l.Token = 1
			return err
		}
		err = tx.QueryRowContext(ctx, `UPDATE leases SET holder = ?, token = token + 1, expires_at = ? WHERE name = ? AND expires_at <= ? RETURNING token`,
			holder, ms(expires), name, ms(now)).Scan(&l.Token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return l, l.Token > 0, err
}

// RenewLease moves a lease on while l holds it.
func (db *DB) RenewLease(ctx context.Context, l trustbot.Lease, now, expires time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`,
		ms(expires), l.Name, l.Holder, l.Token, ms(now))
	return n == 1, err
}

// ReleaseLease frees a lease while l holds it; the token stays, so the
// next holder's is greater.
func (db *DB) ReleaseLease(ctx context.Context, l trustbot.Lease) error {
	_, err := db.exec(ctx, `UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?`, l.Name, l.Holder, l.Token)
	return err
}

// Handled records a request's key, reporting false when it was there.
func (db *DB) Handled(ctx context.Context, key string, t time.Time) (bool, error) {
	first, err := db.HandledAll(ctx, []string{key}, t)
	if err != nil {
		return false, err
	}
	return first[0], nil
}

// HandledAll records the keys of several requests in one transaction,
// reporting for each whether it was new (a key twice in keys is new the
// first time only).
func (db *DB) HandledAll(ctx context.Context, keys []string, t time.Time) ([]bool, error) {
	first := make([]bool, len(keys))
	err := db.Tx(ctx, func(tx *Tx) error {
		// A few statements for the batch, not one a key: on a database
		// across the network every statement is a round trip.
		for start := 0; start < len(keys); start += handledChunk {
			chunk := keys[start:min(start+handledChunk, len(keys))]
			args := make([]any, 0, 2*len(chunk))
			for _, key := range chunk {
				args = append(args, key, ms(t))
			}
			rows, err := tx.QueryContext(ctx, `INSERT INTO handled_requests (key, handled_at) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")+` ON CONFLICT (key) DO NOTHING RETURNING key`, args...)
			if err != nil {
				return err
			}
			inserted := map[string]bool{}
			for rows.Next() {
				var key string
				if err := rows.Scan(&key); err != nil {
					rows.Close()
					return err
				}
				inserted[key] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			// A key asked twice in the batch is new the first time only.
			for i, key := range chunk {
				first[start+i] = inserted[key]
				delete(inserted, key)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return first, nil
}

// handledChunk is how many keys one statement of HandledAll records.
const handledChunk = 200

// PurgeHandled forgets the keys of requests handled before t, and the
// replicas whose lease ended before it.
func (db *DB) PurgeHandled(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := db.Tx(ctx, func(tx *Tx) error {
		for _, q := range []string{`DELETE FROM handled_requests WHERE handled_at < ?`, `DELETE FROM replicas WHERE expires_at < ?`} {
			res, err := tx.ExecContext(ctx, q, ms(before))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}

// staleSendingWhere picks deliveries left sending since before a time, or
// under a replica whose lease has ended (none recorded: an older trustbot,
// gone too).
const staleSendingWhere = `WHERE state = 'sending' AND (sending_at < ? OR NOT EXISTS
		(SELECT 1 FROM replicas r WHERE r.id = deliveries.replica AND r.expires_at > ?)) ORDER BY sending_at LIMIT ?`

// StaleSending returns deliveries left sending since before, or by a
// replica gone at now.
func (db *DB) StaleSending(ctx context.Context, before, now time.Time, limit int) ([]trustbot.Delivery, error) {
	return db.deliveries(ctx, staleSendingWhere, before.Unix(), ms(now), limit)
}

// claimSendingSQL moves pending deliveries to sending for one replica,
// each under an attempt named by the replica and the attempt's number.
// Claimers side by side pass over the rows another holds.
func claimSendingSQL(d *Dialect) string {
	return `WITH c AS (SELECT id FROM deliveries d ` + deliverableWhere + d.ClaimLock("d") + `)
		UPDATE deliveries SET state = 'sending', replica = ?, attempt = CAST(? AS TEXT) || '.' || CAST(attempts + 1 AS TEXT), attempts = attempts + 1, sending_at = ?
		WHERE id IN (SELECT id FROM c) AND state = 'pending'
		RETURNING ` + deliveryCols
}

// ClaimSending claims pending deliveries due at due for replica.
func (db *DB) ClaimSending(ctx context.Context, due, now time.Time, replica string, limit int) ([]trustbot.Delivery, error) {
	var out []trustbot.Delivery
	err := db.Tx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, claimSendingSQL(db.d), due.Unix(), limit, replica, replica, now.Unix())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b trustbot.Delivery) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Sending reports whether a delivery is still sending under attempt.
func (db *DB) Sending(ctx context.Context, id, attempt string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE id = ? AND state = 'sending' AND attempt = ?`, id, attempt).Scan(&n)
	return n == 1, db.formatError(err)
}

// holds is the fence of a write made under a lease: in the write's own
// transaction, it refuses (ECONFLICT) unless l still holds the lease at
// now. The row it touches stays locked to the commit where rows lock, so
// that no new holder takes the lease meanwhile.
func holds(ctx context.Context, tx *Tx, l trustbot.Lease, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE leases SET expires_at = expires_at WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`,
		l.Name, l.Holder, l.Token, ms(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err == nil {
			err = trustbot.Errorf(trustbot.ECONFLICT, "lease %q is no longer held by %s (token %d)", l.Name, l.Holder, l.Token)
		}
		return err
	}
	return nil
}

// PurgeUnder purges as Purge does, only while l holds its lease at now:
// a holder whose time ended, and that another replaced, changes nothing.
func (db *DB) PurgeUnder(ctx context.Context, l trustbot.Lease, now, before time.Time) (int64, error) {
	return db.purge(ctx, before, func(tx *Tx) error { return holds(ctx, tx, l, now) })
}
