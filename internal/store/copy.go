package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// TableRows is how many rows one table holds.
type TableRows struct {
	Table string
	Rows  int64
}

// notCopied are the tables an installation does not move: the target's
// migrations record its own schema, the probe row is rewritten by every
// readiness check, and upkeep is SQLite's record of its own one-time
// steps.
var notCopied = []string{"schema_migrations", "probe", "upkeep"}

// CopyTo copies every row of every table of db into to, in one
// transaction of to, and returns how many rows each table received. Both
// schemas must be at the same version, and to must hold no data: a
// database in use is never merged into. Rows are read in the order they
// were written (the dialect's RowOrder), so that what is ordered by an
// identity column comes out in the same order. Sealed values move as
// they are: the same keys read them on either side.
func (db *DB) CopyTo(ctx context.Context, to *DB) ([]TableRows, error) {
	from, err := db.Version(ctx)
	if err != nil {
		return nil, err
	}
	target, err := to.Version(ctx)
	if err != nil {
		return nil, err
	}
	if from != target {
		return nil, fmt.Errorf("the source's schema is at version %d and the target's at %d: both must be at the same version", from, target)
	}
	// What waits in memory is part of what moves.
	if err := db.flushTips(ctx); err != nil {
		return nil, db.formatError(err)
	}
	tables, err := db.tables(ctx)
	if err != nil {
		return nil, err
	}
	var copied []TableRows
	err = to.Tx(ctx, func(tx *Tx) error {
		targets, err := tableNames(ctx, tx.QueryContext, to.d.TablesSQL)
		if err != nil {
			return err
		}
		var full []string
		for _, t := range tables {
			if !slices.Contains(targets, t) {
				return fmt.Errorf("the target has no table %s", t)
			}
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(t)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				full = append(full, fmt.Sprintf("%s (%d rows)", t, n))
			}
		}
		if len(full) > 0 {
			return &trustbot.Error{Code: trustbot.EINVALID, Message: "the target already holds data, in " + strings.Join(full, ", ") + ": copy only into an empty database"}
		}
		for _, t := range tables {
			n, err := db.copyTable(ctx, tx, t)
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			copied = append(copied, TableRows{t, n})
		}
		return nil
	})
	slices.SortFunc(copied, byTable)
	return copied, err
}

// copyTable inserts every row of db's table t through tx: the columns of
// the source, each converted to the type the target gives it.
func (db *DB) copyTable(ctx context.Context, tx *Tx, t string) (int64, error) {
	// A rowid column is the order rows were written in, which each
	// database numbers itself (an identity column): the rows are read in
	// its order and the target numbers them anew.
	order := db.d.RowOrder
	cols, err := columnNames(ctx, db.read.QueryContext, t)
	if err != nil {
		return 0, err
	}
	if i := slices.Index(cols, "rowid"); i >= 0 {
		cols = slices.Delete(cols, i, i+1)
		order = `ORDER BY rowid`
	}
	kinds, err := tx.columnTypes(ctx, t)
	if err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		if _, ok := kinds[c]; !ok {
			return 0, fmt.Errorf("the target has no column %s", c)
		}
		names[i] = quote(c)
	}
	list := strings.Join(names, ", ")
	rows, err := db.read.QueryContext(ctx, `SELECT `+list+` FROM `+quote(t)+` `+order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	insert := `INSERT INTO ` + quote(t) + ` (` + list + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	stmt, err := tx.tx.PrepareContext(ctx, tx.d.rebind(insert))
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			vals[i] = convert(vals[i], kinds[c])
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// columnNames returns the columns of table t.
func columnNames(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error), t string) ([]string, error) {
	rows, err := query(ctx, `SELECT * FROM `+quote(t)+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// columnTypes returns the type the database gives each column of table t.
func (t *Tx) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	rows, err := t.QueryContext(ctx, `SELECT * FROM `+quote(table)+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{}
	for _, ct := range cts {
		kinds[ct.Name()] = strings.ToUpper(ct.DatabaseTypeName())
	}
	return kinds, rows.Err()
}

// convert makes a value read from one database fit the column type of
// the other: SQLite keeps booleans as integers.
func convert(v any, kind string) any {
	switch kind {
	case "BOOL", "BOOLEAN":
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case "INTEGER", "INT", "INT4", "INT8", "BIGINT":
		if b, ok := v.(bool); ok {
			if b {
				return int64(1)
			}
			return int64(0)
		}
	}
	return v
}

// Counts returns how many rows each table that CopyTo moves holds, by
// table name.
func (db *DB) Counts(ctx context.Context) ([]TableRows, error) {
	if err := db.flushTips(ctx); err != nil {
		return nil, db.formatError(err)
	}
	tables, err := db.tables(ctx)
	if err != nil {
		return nil, err
	}
	var counts []TableRows
	for _, t := range tables {
		var n int64
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(t)).Scan(&n); err != nil {
			return nil, db.formatError(err)
		}
		counts = append(counts, TableRows{t, n})
	}
	slices.SortFunc(counts, byTable)
	return counts, nil
}

func byTable(a, b TableRows) int { return strings.Compare(a.Table, b.Table) }

// tables lists the tables that hold an installation's data, a table
// that refers to another after it.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	all, err := tableNames(ctx, db.read.QueryContext, db.d.TablesSQL)
	if err != nil {
		return nil, db.formatError(err)
	}
	var ts []string
	for _, t := range all {
		if !slices.Contains(notCopied, t) && !strings.HasPrefix(t, "sqlite_") {
			ts = append(ts, t)
		}
	}
	// Only the reflections refer to another table: the deliveries go
	// first.
	if i, j := slices.Index(ts, "deliveries"), slices.Index(ts, "reflections"); i > j && j >= 0 {
		ts[i], ts[j] = ts[j], ts[i]
	}
	return ts, nil
}

func tableNames(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error), q string) ([]string, error) {
	rows, err := query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// quote quotes an identifier ("user" is a keyword on PostgreSQL).
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Users returns every user something is stored about, in order.
func (db *DB) Users(ctx context.Context) ([]trustbot.UserKey, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT team, "user" FROM settings UNION SELECT team, "user" FROM profiles
		UNION SELECT team, "user" FROM schedules UNION SELECT team, "user" FROM deliveries
		UNION SELECT team, "user" FROM journeys UNION SELECT team, "user" FROM tips_shown
		UNION SELECT team, "user" FROM conversations UNION SELECT team, subscriber FROM subscriptions WHERE subscriber != ''
		ORDER BY 1, 2`)
	if err != nil {
		return nil, db.formatError(err)
	}
	defer rows.Close()
	var ks []trustbot.UserKey
	for rows.Next() {
		var k trustbot.UserKey
		if err := rows.Scan(&k.Team, &k.User); err != nil {
			return nil, db.formatError(err)
		}
		ks = append(ks, k)
	}
	return ks, db.formatError(rows.Err())
}

// SameExports compares every user's export on db and on other (the time
// of the export aside) and returns how many users it compared and the
// first user whose exports differ, if one does.
func (db *DB) SameExports(ctx context.Context, other *DB) (users int, differ *trustbot.UserKey, err error) {
	ks, err := db.Users(ctx)
	if err != nil {
		return 0, nil, err
	}
	theirs, err := other.Users(ctx)
	if err != nil {
		return 0, nil, err
	}
	if len(theirs) != len(ks) {
		for _, k := range append(slices.Clone(ks), theirs...) {
			if !slices.Contains(ks, k) || !slices.Contains(theirs, k) {
				return len(ks), &k, nil
			}
		}
	}
	for _, k := range ks {
		a, err := exportJSON(ctx, db, k)
		if err != nil {
			return 0, nil, err
		}
		b, err := exportJSON(ctx, other, k)
		if err != nil {
			return 0, nil, err
		}
		if a != b {
			return len(ks), &k, nil
		}
	}
	return len(ks), nil, nil
}

func exportJSON(ctx context.Context, db *DB, k trustbot.UserKey) (string, error) {
	u, err := db.Export(ctx, k)
	if err != nil {
		return "", err
	}
	u.ExportedAt = time.Time{}
	b, err := json.Marshal(u)
	return string(b), err
}
