package conntrack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// serve starts a server with a Tracker; onNew, if not nil, is called
// with the count of connections accepted at each acceptance.
func serve(t *testing.T, h http.Handler, onNew func(int)) (*Tracker, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := New()
	accepted := 0
	srv := &http.Server{Handler: h, ConnState: func(c net.Conn, s http.ConnState) {
		tr.ConnState(c, s)
		if s == http.StateNew && onNew != nil {
			accepted++ // the server calls this hook in its accept loop, one at a time
			onNew(accepted)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return tr, ln.Addr().String()
}

// A client that sent a request and went away: WaitClosed returns only
// once the server has served it to the end.
func TestWaitClosedWaitsForTheRequestOfAClientGone(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var served atomic.Bool
	tr, addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		served.Store(true)
	}), func(accepted int) {
		// The handler finishes once WaitClosed's own connection is
		// accepted, that is while WaitClosed waits.
		if accepted == 2 {
			close(release)
		}
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /api/chat.postMessage HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	<-started
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.WaitClosed(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if !served.Load() {
		t.Fatal("WaitClosed returned before the request of the client gone was served")
	}
}

// A client still connected keeps WaitClosed waiting, until its context ends.
func TestWaitClosedWaitsForEveryConnection(t *testing.T) {
	tr, addr := serve(t, http.NotFoundHandler(), nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tr.WaitClosed(ctx, addr); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitClosed with a client connected: %v, want the context's end", err)
	}
	c.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.WaitClosed(ctx, addr); err != nil {
		t.Fatalf("WaitClosed once the client closed: %v", err)
	}
}

// WaitClosedFrom waits for the connections it picks out only: another
// client staying connected does not hold it, the picked one does.
func TestWaitClosedFromPicksItsClients(t *testing.T) {
	tr, addr := serve(t, http.NotFoundHandler(), nil)
	stays, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stays.Close()
	gone, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	isGone := func(client string) bool { return client == gone.LocalAddr().String() }
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tr.WaitClosedFrom(ctx, addr, isGone); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitClosedFrom with the picked client connected: %v, want the context's end", err)
	}
	gone.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.WaitClosedFrom(ctx, addr, isGone); err != nil {
		t.Fatalf("WaitClosedFrom once the picked client closed, another still connected: %v", err)
	}
}
