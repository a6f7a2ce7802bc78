package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// The driver prepares every statement anew for each Exec and Query, and
// parsing SQL is most of what a short query costs. A connection here keeps
// the statements it has prepared, one per query text, and runs them again;
// SQLite re-prepares a kept statement by itself when the schema changes.

// maxKept bounds the statements one connection keeps: the store runs a few
// dozen distinct queries; past the bound a query is prepared each time.
const maxKept = 256

// keepingConnector opens connections that keep their statements.
type keepingConnector struct{ base driver.Connector }

func newConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return keepingConnector{base}, nil
}

func (k keepingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := k.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &keepingConn{base: c, kept: map[string]*keptStmt{}}, nil
}

func (k keepingConnector) Driver() driver.Driver { return k.base.Driver() }

// keepingConn is one connection and its kept statements. database/sql
// never uses a connection from two goroutines at once, rows included.
type keepingConn struct {
	base driver.Conn
	kept map[string]*keptStmt
}

// keptStmt is a prepared statement; inUse while its rows are open, when
// the same query on the same connection is prepared apart.
type keptStmt struct {
	stmt  driver.Stmt
	inUse bool
}

// What the driver's connections and statements implement and a kept
// connection passes on.
type (
	baseConn interface {
		driver.ConnBeginTx
		driver.ConnPrepareContext
		driver.ExecerContext
		driver.QueryerContext
		driver.Pinger
		driver.SessionResetter
		driver.Validator
	}
	baseStmt interface {
		driver.StmtExecContext
		driver.StmtQueryContext
	}
)

var _ baseConn = (*keepingConn)(nil)

func (c *keepingConn) b() baseConn { return c.base.(baseConn) }

// take returns the kept statement for q, preparing and keeping it if
// there is room, or nil when it is in use or there is no room.
func (c *keepingConn) take(ctx context.Context, q string) (*keptStmt, error) {
	if k, ok := c.kept[q]; ok {
		if k.inUse {
			return nil, nil
		}
		return k, nil
	}
	if len(c.kept) >= maxKept {
		return nil, nil
	}
	s, err := c.b().PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(baseStmt); !ok {
		s.Close()
		return nil, nil
	}
	k := &keptStmt{stmt: s}
	c.kept[q] = k
	return k, nil
}

func (c *keepingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	k, err := c.take(ctx, q)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return c.b().ExecContext(ctx, q, args)
	}
	k.inUse = true
	defer func() { k.inUse = false }()
	return k.stmt.(baseStmt).ExecContext(ctx, args)
}

func (c *keepingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.take(ctx, q)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return c.b().QueryContext(ctx, q, args)
	}
	rows, err := k.stmt.(baseStmt).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	k.inUse = true
	return &keptRows{Rows: rows, k: k}, nil
}

func (c *keepingConn) Close() error {
	var errs []error
	for q, k := range c.kept {
		errs = append(errs, k.stmt.Close())
		delete(c.kept, q)
	}
	return errors.Join(append(errs, c.base.Close())...)
}

func (c *keepingConn) Prepare(q string) (driver.Stmt, error) { return c.base.Prepare(q) }
func (c *keepingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.b().PrepareContext(ctx, q)
}

// Begin is required by driver.Conn; database/sql calls BeginTx.
func (c *keepingConn) Begin() (driver.Tx, error) {
	return c.b().BeginTx(context.Background(), driver.TxOptions{})
}

func (c *keepingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.b().BeginTx(ctx, o)
}
func (c *keepingConn) Ping(ctx context.Context) error         { return c.b().Ping(ctx) }
func (c *keepingConn) ResetSession(ctx context.Context) error { return c.b().ResetSession(ctx) }
func (c *keepingConn) IsValid() bool                          { return c.b().IsValid() }

// keptRows gives its statement back when closed; the driver resets it.
type keptRows struct {
	driver.Rows
	k *keptStmt
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	r.k.inUse = false
	return err
}

// openPool is sql.Open with connections that keep their statements.
func openPool(dsn string) (*sql.DB, error) {
	c, err := newConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}
