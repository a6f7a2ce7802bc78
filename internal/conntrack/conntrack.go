// Package conntrack follows the connections a test server accepts, so that
// a test can wait until a client that went away (a process killed) has
// nothing left in the server: every connection it had open, or still
// waiting in the listener's queue, served to its end and closed.
package conntrack

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// Tracker records which connections of an http.Server are open. Set its
// ConnState as the server's (http.Server.ConnState) before it serves.
type Tracker struct {
	mu      sync.Mutex
	open    map[string]bool // by the client's address
	changed chan struct{}   // closed when open changes
}

// New returns a Tracker with no connection open.
func New() *Tracker {
	return &Tracker{open: map[string]bool{}, changed: make(chan struct{})}
}

// ConnState is the hook for http.Server.ConnState. A connection counts as
// open from its acceptance until it is closed or hijacked (a WebSocket is
// followed by the server that took it).
func (t *Tracker) ConnState(c net.Conn, state http.ConnState) {
	key := c.RemoteAddr().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch state {
	case http.StateNew:
		t.open[key] = true
	case http.StateClosed, http.StateHijacked:
		delete(t.open, key)
	default:
		return
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// Open is the number of connections open.
func (t *Tracker) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}

// WaitClosed waits until every connection to the server at addr that its
// clients opened before the call is closed: each request they carried has
// been read and answered (or abandoned) first. It opens one connection of
// its own and waits until the server accepts it, after the ones queued
// before it (a listener hands them out in order), and then until all the
// others open at that moment are closed. Only clients that have gone, or
// close their connections, let it return: it is for a test whose clients
// were killed.
func (t *Tracker) WaitClosed(ctx context.Context, addr string) error {
	return t.WaitClosedFrom(ctx, addr, func(string) bool { return true })
}

// WaitClosedFrom is WaitClosed for the connections whose client address
// ("127.0.0.1:PORT") from picks out: those of one client process that
// was killed while others stay connected.
func (t *Tracker) WaitClosedFrom(ctx context.Context, addr string, from func(client string) bool) error {
	probe, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	mine := probe.LocalAddr().String()
	var before []string
	err = t.wait(ctx, func() bool {
		if !t.open[mine] {
			return false
		}
		for k := range t.open {
			if k != mine && from(k) {
				before = append(before, k)
			}
		}
		return true
	})
	probe.Close()
	if err != nil {
		return err
	}
	return t.wait(ctx, func() bool {
		for _, k := range before {
			if t.open[k] {
				return false
			}
		}
		return true
	})
}

// wait blocks until cond, called with t.mu held, is true.
func (t *Tracker) wait(ctx context.Context, cond func() bool) error {
	for {
		t.mu.Lock()
		if cond() {
			t.mu.Unlock()
			return nil
		}
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
