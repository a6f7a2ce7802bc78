package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

const journeyCols = `id, team, "user", kind, label, state, start, step, next_due_at, data, started_at, sealed`

func (db *DB) scanJourney(row scanner) (trustbot.Journey, error) {
	var (
		j            trustbot.Journey
		start, data  string
		due          sql.NullInt64
		startedAtSec int64
		sealed       sql.NullBool
	)
	if err := row.Scan(&j.ID, &j.Team, &j.User, &j.Kind, &j.Label, &j.State, &start, &j.Step, &due, &data, &startedAtSec, &sealed); err != nil {
		return j, err
	}
	return j, db.openJourney(&j, start, due, startedAtSec, data, sealed)
}

// openJourney fills the parts of a journey read as text, opening what was
// sealed. A journey that cannot be read gets an *unreadableError.
func (db *DB) openJourney(j *trustbot.Journey, start string, due sql.NullInt64, startedAtSec int64, data string, sealed sql.NullBool) error {
	var err error
	if j.Label, err = db.reveal(sealed, j.Label); err != nil {
		return unreadable("journeys", j.ID, fmt.Errorf("label: %w", err))
	}
	if data, err = db.reveal(sealed, data); err != nil {
		return unreadable("journeys", j.ID, fmt.Errorf("data: %w", err))
	}
	j.Start, _ = trustbot.ParseDate(start)
	if due.Valid {
		j.NextDueAt = time.Unix(due.Int64, 0).UTC()
	}
	j.StartedAt = time.Unix(startedAtSec, 0).UTC()
	if err := json.Unmarshal([]byte(data), &j.Data); err != nil {
		return unreadable("journeys", j.ID, fmt.Errorf("data: %w", err))
	}
	return nil
}

// SaveJourney creates or replaces one of the user's journeys. A journey's
// ID belongs to its user: saving it under another user fails.
func (db *DB) SaveJourney(ctx context.Context, j trustbot.Journey) error {
	return db.Tx(ctx, func(tx *Tx) error { return db.saveJourney(ctx, tx, j, db.Now()) })
}

func (db *DB) saveJourney(ctx context.Context, tx *Tx, j trustbot.Journey, now time.Time) error {
	if j.ID == "" {
		return errors.New("journey without an ID")
	}
	var due any
	if j.State == trustbot.Active && !j.NextDueAt.IsZero() {
		due = j.NextDueAt.Unix()
	}
	raw, err := json.Marshal(j.Data)
	if err != nil {
		return err
	}
	text, sealed, err := db.seal(j.Label, string(raw))
	if err != nil {
		return err
	}
	started := j.StartedAt
	if started.IsZero() {
		started = now
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO journeys (`+journeyCols+`, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET label = excluded.label, state = excluded.state, start = excluded.start,
			step = excluded.step, next_due_at = excluded.next_due_at, data = excluded.data, sealed = excluded.sealed,
			updated_at = excluded.updated_at
		WHERE journeys.team = excluded.team AND journeys."user" = excluded."user"`,
		j.ID, j.Team, j.User, j.Kind, text[0], j.State, j.Start.String(), j.Step, due, text[1], started.Unix(), sealed, now.Unix())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return trustbot.Errorf(trustbot.ENOTFOUND, "no journey %q for %s", j.ID, j.UserKey)
	}
	return nil
}

// Journey returns one of the user's journeys.
func (db *DB) Journey(ctx context.Context, k trustbot.UserKey, id string) (trustbot.Journey, error) {
	j, err := db.scanJourney(db.read.QueryRowContext(ctx, `SELECT `+journeyCols+` FROM journeys WHERE id = ? AND team = ? AND "user" = ?`, id, k.Team, k.User))
	if errors.Is(err, sql.ErrNoRows) {
		return j, trustbot.Errorf(trustbot.ENOTFOUND, "no journey %q for %s", id, k)
	}
	return j, db.formatError(err)
}

// Journeys returns the user's journeys, newest first.
func (db *DB) Journeys(ctx context.Context, k trustbot.UserKey, activeOnly bool) ([]trustbot.Journey, error) {
	q := `SELECT ` + journeyCols + ` FROM journeys WHERE team = ? AND "user" = ?`
	if activeOnly {
		q += ` AND state = 'active'`
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY started_at DESC, id`, k.Team, k.User)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []trustbot.Journey
	for rows.Next() {
		j, err := db.scanJourney(rows)
		if _, ok := errors.AsType[*unreadableError](err); ok {
			db.skipped(err)
			continue
		}
		if err != nil {
			return nil, db.formatError(err)
		}
		out = append(out, j)
	}
	return out, db.formatError(rows.Err())
}

var claimDueJourneysSQL = `SELECT ` + prefixed("j.", journeyCols) + `,
		coalesce(p.tz, ''), coalesce(st.workdays, 62), coalesce(st.quiet_start, -1), coalesce(st.quiet_end, -1),
		coalesce(st.holidays, ''), coalesce(st.paused_until, 0)
	FROM journeys j
	LEFT JOIN profiles p ON p.team = j.team AND p."user" = j."user"
	LEFT JOIN settings st ON st.team = j.team AND st."user" = j."user"
	WHERE j.next_due_at IS NOT NULL AND j.next_due_at <= ?
	ORDER BY j.next_due_at LIMIT ?`

// ClaimDueJourneys claims due journey follow-ups in one transaction.
func (db *DB) ClaimDueJourneys(ctx context.Context, now time.Time, limit int, advance func(trustbot.Journey, trustbot.Prefs) (trustbot.Journey, string)) ([]trustbot.Delivery, error) {
	var out []trustbot.Delivery
	err := db.Tx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, claimDueJourneysSQL+db.d.ClaimLock("j"), now.Unix(), limit)
		if err != nil {
			return err
		}
		type due struct {
			j trustbot.Journey
			p trustbot.Prefs
		}
		var (
			list []due
			bad  []string
		)
		for rows.Next() {
			var (
				d               due
				start, data     string
				next            sql.NullInt64
				started, paused int64
				sealed          sql.NullBool
			)
			if err := rows.Scan(&d.j.ID, &d.j.Team, &d.j.User, &d.j.Kind, &d.j.Label, &d.j.State, &start, &d.j.Step, &next, &data, &started, &sealed,
				&d.p.TZ, &d.p.Workdays, &d.p.QuietStart, &d.p.QuietEnd, &d.p.Holidays, &paused); err != nil {
				rows.Close()
				return err
			}
			if paused > 0 {
				d.p.PausedUntil = time.Unix(paused, 0).UTC()
			}
			if err := db.openJourney(&d.j, start, next, started, data, sealed); err != nil {
				if _, ok := errors.AsType[*unreadableError](err); !ok {
					rows.Close()
					return err
				}
				db.skipped(err)
				bad = append(bad, d.j.ID)
				continue
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// A journey that cannot be read waits a day, so that it neither
		// stops the others nor comes first in every pass.
		for _, id := range bad {
			if _, err := tx.ExecContext(ctx, `UPDATE journeys SET next_due_at = ? WHERE id = ?`, now.Add(unreadableRetry).Unix(), id); err != nil {
				return err
			}
		}
		for _, d := range list {
			next, key := advance(d.j, d.p)
			del := trustbot.Delivery{UserKey: d.j.UserKey, Kind: "journey", Occurrence: d.j.ID + ":" + key, DueAt: d.j.NextDueAt}
			if err := claimed(ctx, tx, &out, del, now); err != nil {
				return err
			}
			if err := db.saveJourney(ctx, tx, next, now); err != nil {
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

// MoveJourney moves a journey's next follow-up, fenced by its step and
// its due time.
func (db *DB) MoveJourney(ctx context.Context, k trustbot.UserKey, id string, step int, from, to time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE journeys SET next_due_at = ?, updated_at = ?
		WHERE id = ? AND team = ? AND "user" = ? AND state = 'active' AND step = ? AND next_due_at = ?`,
		to.Unix(), db.Now().Unix(), id, k.Team, k.User, step, from.Unix())
	return n > 0, err
}

// unreadableRetry is how long a due journey that cannot be read waits
// before it is tried again (an operator may add the missing key).
const unreadableRetry = 24 * time.Hour

// SkipPending marks pending deliveries skipped.
func (db *DB) SkipPending(ctx context.Context, k trustbot.UserKey, kind, prefix string) error {
	_, err := db.exec(ctx, `UPDATE deliveries SET state = 'skipped' WHERE team = ? AND "user" = ? AND kind = ? AND state = 'pending'
		AND substr(occurrence, 1, ?) = ?`, k.Team, k.User, kind, utf8.RuneCountInString(prefix), prefix)
	return err
}
