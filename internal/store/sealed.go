package store

import (
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Free text (notes, actions, journey labels and data) is sealed by row: a
// row's "sealed" column says whether its non-empty values are sealed,
// never their text. NULL marks a row stored before the column existed
// whose values all look sealed: the keys decide (secret.OpenLegacy).

// reveal returns the text of a value stored under the given sealed mark.
func (db *DB) reveal(sealed sql.NullBool, v string) (string, error) {
	switch {
	case v == "":
		return "", nil
	case !sealed.Valid:
		return db.Keys.OpenLegacy(v)
	case sealed.Bool:
		return db.Keys.Open(v)
	default:
		return v, nil
	}
}

// seal returns values as they are to be stored, and their sealed mark.
func (db *DB) seal(values ...string) ([]string, bool, error) {
	out := make([]string, len(values))
	for i, v := range values {
		s, err := db.Keys.Seal(v)
		if err != nil {
			return nil, false, err
		}
		out[i] = s
	}
	return out, db.Keys.Sealing(), nil
}

// unreadableError is a row whose stored values cannot be read: sealed
// with a key that is not configured, or damaged. It is skipped, never
// allowed to stop what reads other rows.
type unreadableError struct {
	table, id string
	err       error
}

func (e *unreadableError) Error() string {
	return fmt.Sprintf("%s %s cannot be read: %v", e.table, e.id, e.err)
}

func (e *unreadableError) Unwrap() error { return e.err }

func unreadable(table, id string, err error) error {
	return &unreadableError{table: table, id: id, err: err}
}

// skipped logs (IDs only) and counts a row that was skipped.
func (db *DB) skipped(err error) {
	u, ok := err.(*unreadableError)
	if !ok {
		return
	}
	log := db.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Warn("a stored row cannot be read; it is skipped", "table", u.table, "id", u.id, "err", u.err)
	if db.Metrics != nil {
		db.Metrics.Fault(trustbot.FaultUnreadable)
	}
}
