package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// newID returns a random delivery ID.
func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "d" + hex.EncodeToString(b)
}

const scheduleCols = `team, "user", cadence, weekday, month_day, week, minute, anchor, active, stopped, occurrence, next_due_at`

type scanner interface{ Scan(...any) error }

func scanSchedule(row scanner) (trustbot.Schedule, error) {
	var (
		s                           trustbot.Schedule
		cadence, anchor, occurrence string
		wd                          int
		due                         sql.NullInt64
	)
	err := row.Scan(&s.Team, &s.User, &cadence, &wd, &s.MonthDay, &s.Week, &s.Minute, &anchor, &s.Active, &s.Stopped, &occurrence, &due)
	if err != nil {
		return s, err
	}
	s.Cadence, s.Weekday = trustbot.Cadence(cadence), time.Weekday(wd)
	if anchor != "" {
		s.Anchor, _ = trustbot.ParseDate(anchor)
	}
	if occurrence != "" {
		s.Occurrence, _ = trustbot.ParseDate(occurrence)
	}
	if due.Valid {
		s.NextDueAt = time.Unix(due.Int64, 0).UTC()
	}
	return s, nil
}

// Schedule returns the user's check-in schedule.
func (db *DB) Schedule(ctx context.Context, k trustbot.UserKey) (trustbot.Schedule, error) {
	s, err := scanSchedule(db.read.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE team = ? AND "user" = ?`, k.Team, k.User))
	if errors.Is(err, sql.ErrNoRows) {
		return s, trustbot.Errorf(trustbot.ENOTFOUND, "no schedule for %s", k)
	}
	return s, db.formatError(err)
}

// SaveSchedule creates or replaces the user's schedule.
func (db *DB) SaveSchedule(ctx context.Context, s trustbot.Schedule) error {
	return db.Tx(ctx, func(tx *Tx) error { return saveSchedule(ctx, tx, s, db.Now()) })
}

func saveSchedule(ctx context.Context, tx *Tx, s trustbot.Schedule, now time.Time) error {
	var due any
	if s.Active && !s.NextDueAt.IsZero() {
		due = s.NextDueAt.Unix()
	}
	anchor, occurrence := "", ""
	if !s.Anchor.IsZero() {
		anchor = s.Anchor.String()
	}
	if !s.Occurrence.IsZero() {
		occurrence = s.Occurrence.String()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schedules (`+scheduleCols+`, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (team, "user") DO UPDATE SET cadence = excluded.cadence, weekday = excluded.weekday,
			month_day = excluded.month_day, week = excluded.week, minute = excluded.minute, anchor = excluded.anchor,
			active = excluded.active, stopped = excluded.stopped, occurrence = excluded.occurrence,
			next_due_at = excluded.next_due_at, updated_at = excluded.updated_at`,
		s.Team, s.User, string(s.Cadence), int(s.Weekday), s.MonthDay, s.Week, s.Minute, anchor, s.Active, s.Stopped,
		occurrence, due, now.Unix())
	return err
}

// ClaimDue claims due schedules and creates their deliveries in one
// transaction: one claimer at a time where writers take turns (SQLite),
// each on rows no other claimer holds where they run side by side.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, advance func(trustbot.Schedule, trustbot.Prefs) (trustbot.Schedule, int)) ([]trustbot.Delivery, error) {
	var out []trustbot.Delivery
	err := db.Tx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, claimDueSQL+db.d.ClaimLock("s"), now.Unix(), limit)
		if err != nil {
			return err
		}
		type due struct {
			s trustbot.Schedule
			p trustbot.Prefs
		}
		var list []due
		for rows.Next() {
			var d due
			var paused int64
			var cadence, anchor, occurrence string
			var wd int
			var next sql.NullInt64
			if err := rows.Scan(&d.s.Team, &d.s.User, &cadence, &wd, &d.s.MonthDay, &d.s.Week, &d.s.Minute, &anchor,
				&d.s.Active, &d.s.Stopped, &occurrence, &next,
				&d.p.TZ, &d.p.Workdays, &d.p.QuietStart, &d.p.QuietEnd, &d.p.Holidays, &paused); err != nil {
				rows.Close()
				return err
			}
			d.s.Cadence, d.s.Weekday = trustbot.Cadence(cadence), time.Weekday(wd)
			d.s.Anchor, _ = trustbot.ParseDate(anchor)
			d.s.Occurrence, _ = trustbot.ParseDate(occurrence)
			d.s.NextDueAt = time.Unix(next.Int64, 0).UTC()
			if paused > 0 {
				d.p.PausedUntil = time.Unix(paused, 0).UTC()
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range list {
			next, missed := advance(d.s, d.p)
			del := trustbot.Delivery{UserKey: d.s.UserKey, Kind: "checkin", Occurrence: d.s.Occurrence.String(), DueAt: d.s.NextDueAt, Missed: missed}
			if err := claimed(ctx, tx, &out, del, now); err != nil {
				return err
			}
			if err := saveSchedule(ctx, tx, next, now); err != nil {
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

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

const deliveryCols = `id, team, "user", kind, occurrence, state, attempt, attempts, due_at, sending_at, channel, ts, error, missed`

func scanDelivery(row scanner) (trustbot.Delivery, error) {
	var d trustbot.Delivery
	var due, sending int64
	err := row.Scan(&d.ID, &d.Team, &d.User, &d.Kind, &d.Occurrence, &d.State, &d.Attempt, &d.Attempts, &due, &sending, &d.Channel, &d.TS, &d.Error, &d.Missed)
	d.DueAt = time.Unix(due, 0).UTC()
	if sending > 0 {
		d.SendingAt = time.Unix(sending, 0).UTC()
	}
	return d, err
}

func (db *DB) deliveries(ctx context.Context, query string, args ...any) ([]trustbot.Delivery, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries `+query, args...)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []trustbot.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, db.formatError(err)
		}
		out = append(out, d)
	}
	return out, db.formatError(rows.Err())
}

// DueSchedules returns schedules due at now.
func (db *DB) DueSchedules(ctx context.Context, now time.Time, limit int) ([]trustbot.Schedule, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+scheduleCols+` FROM schedules
		WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?`, now.Unix(), limit)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var out []trustbot.Schedule
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, db.formatError(err)
		}
		out = append(out, s)
	}
	return out, db.formatError(rows.Err())
}

// insertDelivery adds a pending delivery unless one with its key (team,
// user, kind, occurrence) exists: the unique key that keeps an occurrence
// from being claimed twice. It reports whether it added one.
func insertDelivery(ctx context.Context, tx *Tx, d *trustbot.Delivery, now time.Time) (bool, error) {
	d.ID, d.State = newID(), trustbot.Pending
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, team, "user", kind, occurrence, state, due_at, claimed_at, missed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team, "user", kind, occurrence) DO NOTHING`,
		d.ID, d.Team, d.User, d.Kind, d.Occurrence, d.State, d.DueAt.Unix(), now.Unix(), d.Missed)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// claimed inserts a claimed delivery and adds it to out when it is new.
func claimed(ctx context.Context, tx *Tx, out *[]trustbot.Delivery, d trustbot.Delivery, now time.Time) error {
	added, err := insertDelivery(ctx, tx, &d, now)
	if added {
		*out = append(*out, d)
	}
	return err
}

// InsertDelivery adds a pending delivery unless its key exists.
func (db *DB) InsertDelivery(ctx context.Context, d trustbot.Delivery) (bool, error) {
	var added bool
	err := db.Tx(ctx, func(tx *Tx) error {
		var err error
		added, err = insertDelivery(ctx, tx, &d, db.Now())
		return err
	})
	return added, err
}

// The queries every dispatch pass runs, each served by an index of its own
// (migration 0006; a test checks their plans): their cost follows what is
// due, never the size of the tables.
var claimDueSQL = `SELECT ` + prefixed("s.", scheduleCols) + `,
			coalesce(p.tz, ''), coalesce(st.workdays, 62), coalesce(st.quiet_start, -1), coalesce(st.quiet_end, -1),
			coalesce(st.holidays, ''), coalesce(st.paused_until, 0)
		FROM schedules s
		LEFT JOIN profiles p ON p.team = s.team AND p."user" = s."user"
		LEFT JOIN settings st ON st.team = s.team AND st."user" = s."user"
		WHERE s.next_due_at IS NOT NULL AND s.next_due_at <= ?
		ORDER BY s.next_due_at LIMIT ?`

const (
	deliverableWhere = `WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`
	reflectionsWhere = `WHERE team = ? AND "user" = ? AND kind = ? AND state IN ('sent', 'skipped') ORDER BY occurrence DESC LIMIT ?`
)

// Deliverable returns pending deliveries due at now, oldest first.
func (db *DB) Deliverable(ctx context.Context, now time.Time, limit int) ([]trustbot.Delivery, error) {
	return db.deliveries(ctx, deliverableWhere, now.Unix(), limit)
}

// MarkSending moves a pending delivery to Sending; now is when the attempt
// begins.
func (db *DB) MarkSending(ctx context.Context, id, attempt string, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'sending', attempt = ?, replica = ?, attempts = attempts + 1, sending_at = ?
		WHERE id = ? AND state = 'pending'`, attempt, trustbot.AttemptReplica(attempt), now.Unix(), id)
	return n == 1, err
}

// Every change of a delivery's sending state is fenced by the attempt that
// made it sending: a sender that comes back late (after a reconciler
// requeued its delivery, or another sender took it) changes nothing, and
// is told so.

// MarkSent records where a delivery sent under attempt went. It also takes
// effect when the delivery was requeued from that attempt and nobody has
// taken it since: the message is on the platform, so it must not go again.
// It reports false when another attempt owns the delivery.
func (db *DB) MarkSent(ctx context.Context, id, attempt string, p trustbot.Posted, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'sent', channel = ?, ts = ?, sent_at = ?, error = ''
		WHERE id = ? AND attempt = ? AND state IN ('sending', 'pending')`, p.Channel, p.TS, now.Unix(), id, attempt)
	return n == 1, err
}

// Requeue puts a delivery left sending under attempt back to pending, due
// at t. It reports false when the delivery is no longer sending under that
// attempt. The attempt stays recorded, so that its sender can still record
// the message as sent if it went out after all.
func (db *DB) Requeue(ctx context.Context, id, attempt string, t time.Time, reason string) (bool, error) {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'pending', due_at = ?, error = ?
		WHERE id = ? AND state = 'sending' AND attempt = ?`, t.Unix(), reason, id, attempt)
	return n == 1, err
}

// MarkFailed records that a delivery sending under attempt will not be
// sent. It reports false when the delivery is no longer sending under that
// attempt.
func (db *DB) MarkFailed(ctx context.Context, id, attempt, reason string) (bool, error) {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'failed', error = ? WHERE id = ? AND state = 'sending' AND attempt = ?`,
		reason, id, attempt)
	return n == 1, err
}

// Delivery returns one of the user's deliveries.
func (db *DB) Delivery(ctx context.Context, k trustbot.UserKey, id string) (trustbot.Delivery, error) {
	d, err := scanDelivery(db.read.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ? AND team = ? AND "user" = ?`, id, k.Team, k.User))
	if errors.Is(err, sql.ErrNoRows) {
		return d, trustbot.Errorf(trustbot.ENOTFOUND, "no delivery %q for %s", id, k)
	}
	return d, db.formatError(err)
}

// Snooze puts one of the user's deliveries back to pending until t.
func (db *DB) Snooze(ctx context.Context, k trustbot.UserKey, id string, t time.Time) error {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'pending', attempt = '', due_at = ? WHERE id = ? AND team = ? AND "user" = ? AND state IN ('sent', 'pending')`,
		t.Unix(), id, k.Team, k.User)
	if err == nil && n == 0 {
		return trustbot.Errorf(trustbot.ENOTFOUND, "no snoozable delivery %q for %s", id, k)
	}
	return err
}

// Skip marks one of the user's deliveries skipped.
func (db *DB) Skip(ctx context.Context, k trustbot.UserKey, id string) error {
	n, err := db.exec(ctx, `UPDATE deliveries SET state = 'skipped' WHERE id = ? AND team = ? AND "user" = ?`, id, k.Team, k.User)
	if err == nil && n == 0 {
		return trustbot.Errorf(trustbot.ENOTFOUND, "no delivery %q for %s", id, k)
	}
	return err
}

// SaveAnswers merges answers into a reflection.
func (db *DB) SaveAnswers(ctx context.Context, a trustbot.Answers) (trustbot.Answers, error) {
	var out trustbot.Answers
	err := db.Tx(ctx, func(tx *Tx) error {
		var occurrence string
		// The delivery's row is held until the commit, so that answers
		// merged at once from two places both count.
		err := tx.QueryRowContext(ctx, `SELECT occurrence FROM deliveries WHERE id = ? AND team = ? AND "user" = ? `+db.d.RowLock, a.DeliveryID, a.Team, a.User).Scan(&occurrence)
		if errors.Is(err, sql.ErrNoRows) {
			return trustbot.Errorf(trustbot.ENOTFOUND, "no delivery %q for %s", a.DeliveryID, a.UserKey)
		}
		if err != nil {
			return err
		}
		cur, err := db.answers(ctx, tx, a.UserKey, a.DeliveryID)
		if err != nil {
			return err
		}
		if cur.Choices == nil {
			cur.Choices = map[string]string{}
		}
		for q, c := range a.Choices {
			cur.Choices[q] = c
		}
		if a.Note != "" {
			cur.Note = a.Note
		}
		if a.Action != "" {
			cur.Action = a.Action
		}
		cur.DeliveryID, cur.UserKey, cur.Occurrence, cur.AnsweredAt = a.DeliveryID, a.UserKey, occurrence, a.AnsweredAt
		choices, _ := json.Marshal(cur.Choices)
		text, sealed, err := db.seal(cur.Note, cur.Action)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reflections (delivery_id, team, "user", occurrence, choices, note, action, sealed, answered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO UPDATE SET choices = excluded.choices,
			note = excluded.note, action = excluded.action, sealed = excluded.sealed, answered_at = excluded.answered_at`,
			a.DeliveryID, a.Team, a.User, occurrence, string(choices), text[0], text[1], sealed, a.AnsweredAt.Unix()); err != nil {
			return err
		}
		out = cur
		return nil
	})
	return out, err
}

// answers reads the user's reflection on a delivery (empty when there is
// none). A reflection whose text cannot be read comes back without it,
// with an *unreadableError.
func (db *DB) answers(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k trustbot.UserKey, id string) (trustbot.Answers, error) {
	a := trustbot.Answers{DeliveryID: id, UserKey: k}
	var (
		choices, note, action string
		sealed                sql.NullBool
		at                    int64
	)
	err := q.QueryRowContext(ctx, `SELECT occurrence, choices, note, action, sealed, answered_at FROM reflections
		WHERE delivery_id = ? AND team = ? AND "user" = ?`, id, k.Team, k.User).Scan(&a.Occurrence, &choices, &note, &action, &sealed, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.AnsweredAt = time.Unix(at, 0).UTC()
	if err := json.Unmarshal([]byte(choices), &a.Choices); err != nil {
		return a, unreadable("reflections", id, fmt.Errorf("choices: %w", err))
	}
	if a.Note, err = db.reveal(sealed, note); err != nil {
		a.Note = ""
		return a, unreadable("reflections", id, fmt.Errorf("note: %w", err))
	}
	if a.Action, err = db.reveal(sealed, action); err != nil {
		a.Note, a.Action = "", ""
		return a, unreadable("reflections", id, fmt.Errorf("action: %w", err))
	}
	return a, nil
}

// Reflections returns the user's last n sent deliveries of kind with their
// answers.
func (db *DB) Reflections(ctx context.Context, k trustbot.UserKey, kind string, n int) ([]trustbot.Reflection, error) {
	ds, err := db.deliveries(ctx, reflectionsWhere, k.Team, k.User, kind, n)
	if err != nil {
		return nil, err
	}
	out := make([]trustbot.Reflection, 0, len(ds))
	for _, d := range ds {
		a, err := db.answers(ctx, db.read, k, d.ID)
		if _, ok := errors.AsType[*unreadableError](err); ok {
			db.skipped(err) // the answers chosen stay; the text is left out
		} else if err != nil {
			return nil, db.formatError(err)
		}
		out = append(out, trustbot.Reflection{Delivery: d, Answers: a})
	}
	return out, nil
}

// HotQueries are the statements every dispatch pass (and a user's history
// and export) runs, with arguments of the right types: each database's
// tests check that an index serves them.
var HotQueries = map[string]struct {
	SQL  string
	Args []any
}{
	"ClaimDue":              {claimDueSQL, []any{int64(0), 500}},
	"ClaimDueJourneys":      {claimDueJourneysSQL, []any{int64(0), 500}},
	"ClaimDueSubscriptions": {claimDueSubscriptionsSQL, []any{int64(0), 500}},
	"Deliverable":           {`SELECT ` + deliveryCols + ` FROM deliveries ` + deliverableWhere, []any{int64(0), 500}},
	"StaleSending":          {`SELECT ` + deliveryCols + ` FROM deliveries ` + staleSendingWhere, []any{int64(0), int64(0), 500}},
	"Reflections":           {`SELECT ` + deliveryCols + ` FROM deliveries ` + reflectionsWhere, []any{"T", "U", "checkin", 12}},
	"ExportDeliveries":      {`SELECT ` + deliveryCols + ` FROM deliveries ` + userDeliveriesWhere, []any{"T", "U"}},
}
