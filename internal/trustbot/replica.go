package trustbot

import (
	"context"
	"strings"
	"time"
)

// Replica is a running trustbot process on a database that several may
// share. It holds a lease, renewed while it runs: a replica whose lease
// has ended is gone, and what it left sending is settled by another.
type Replica struct {
	ID      string
	Host    string
	PID     int
	Started time.Time
	Expires time.Time // the end of its lease
}

// Lease is a named piece of work one replica does at a time.
type Lease struct {
	Name    string
	Holder  string // the replica's ID
	Token   int64  // grows with every new holder: it fences the holder's writes
	Expires time.Time
}

// ReplicaStore keeps the replicas sharing the database, their leases and
// the requests already handled.
type ReplicaStore interface {
	// RegisterReplica records a replica starting, its lease ending at
	// r.Expires.
	RegisterReplica(ctx context.Context, r Replica) error
	// EndReplicas ends every replica's lease, for a caller that knows
	// them gone (one that holds SQLite's instance lock).
	EndReplicas(ctx context.Context) error
	// RenewReplica moves the replica's lease on to expires. It reports
	// false when the lease had ended by now (or the replica is unknown):
	// others may have taken over its work, and it must register anew.
	RenewReplica(ctx context.Context, id string, now, expires time.Time) (bool, error)
	// ReleaseReplica ends the replica's lease: it stops.
	ReleaseReplica(ctx context.Context, id string) error
	// Replicas returns the replicas whose lease has not ended by now.
	Replicas(ctx context.Context, now time.Time) ([]Replica, error)

	// AcquireLease takes the named lease for holder until expires, when
	// nobody holds it or its holder's time ended by now. It reports false
	// when another holds it.
	AcquireLease(ctx context.Context, name, holder string, now, expires time.Time) (Lease, bool, error)
	// RenewLease moves the lease on to expires if l still holds it (same
	// holder and token, not ended by now). It reports false otherwise.
	RenewLease(ctx context.Context, l Lease, now, expires time.Time) (bool, error)
	// ReleaseLease gives the lease up if l still holds it.
	ReleaseLease(ctx context.Context, l Lease) error

	// Handled records that the request with this key (an envelope or
	// event ID) is being handled at t. It reports false when it was
	// already: the request came twice and must be handled once.
	Handled(ctx context.Context, key string, t time.Time) (bool, error)
	// HandledAll is Handled for several keys in one transaction, with
	// one answer per key, in order.
	HandledAll(ctx context.Context, keys []string, t time.Time) ([]bool, error)
	// PurgeHandled forgets the keys of requests handled before t, and the
	// replicas whose lease ended before it.
	PurgeHandled(ctx context.Context, before time.Time) (int64, error)
	// PurgeUnder deletes what retention removes (older than before), only
	// while l still holds its lease at now; ECONFLICT otherwise, and
	// nothing is deleted.
	PurgeUnder(ctx context.Context, l Lease, now, before time.Time) (int64, error)
}

// sendCheckKey carries, in a context, what a messenger asks right before
// it hands a message to the platform.
type sendCheckKey struct{}

// WithSendCheck returns ctx carrying check: a messenger calls CheckSend
// immediately before it hands a message over, and sends nothing when
// check fails.
func WithSendCheck(ctx context.Context, check func(context.Context) error) context.Context {
	return context.WithValue(ctx, sendCheckKey{}, check)
}

// CheckSend runs the check ctx carries (none: nil). A non-nil error means
// the message must not go: the attempt is no longer this sender's (code
// ECONFLICT).
func CheckSend(ctx context.Context) error {
	if check, ok := ctx.Value(sendCheckKey{}).(func(context.Context) error); ok {
		return check(ctx)
	}
	return nil
}

// AttemptReplica returns the replica that made an attempt to send: an
// attempt is named "<replica ID>.<its number>". It returns "" for an
// attempt of an older trustbot, whose replica is taken to be gone.
func AttemptReplica(attempt string) string {
	i := strings.LastIndexByte(attempt, '.')
	if i < 0 {
		return ""
	}
	return attempt[:i]
}
