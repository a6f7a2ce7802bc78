package teams

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Limits of the links to files.
const (
	// LinkTTL is how long a link works: long enough to tap it, short
	// enough that a forwarded message is harmless soon after.
	LinkTTL = 10 * time.Minute
	// MaxLinks bounds the files waiting for their download; the oldest
	// goes first.
	MaxLinks = 256
	// LinkPath is where links are served, on the public address.
	LinkPath = "/files/"
)

// Links serves each user's files (their data export) from single-use
// links that expire after LinkTTL. A link is a random 128-bit token, sent
// only into the user's personal chat; it is the only key to the file, and
// it is gone once used. Files are kept in memory only.
type Links struct {
	// Gone is the page for a link that has expired or was used.
	Gone string
	Now  func() time.Time

	mu    sync.Mutex
	files map[string]*file
}

type file struct {
	owner   trustbot.UserKey
	name    string
	data    []byte
	expires time.Time
}

// Put keeps data and returns its link under base (the public URL, such as
// https://bot.example.com).
func (l *Links) Put(owner trustbot.UserKey, name string, data []byte, base string) (string, error) {
	if base == "" {
		return "", errors.New("teams: no public URL known for links")
	}
	var b [16]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil {
		l.files = map[string]*file{}
	}
	l.sweep(now)
	for len(l.files) >= MaxLinks {
		var oldest string
		for t, f := range l.files {
			if oldest == "" || f.expires.Before(l.files[oldest].expires) {
				oldest = t
			}
		}
		delete(l.files, oldest)
	}
	l.files[token] = &file{owner: owner, name: name, data: data, expires: now.Add(LinkTTL)}
	return strings.TrimSuffix(base, "/") + LinkPath + token, nil
}

// Drop forgets a link that could not be given to its owner.
func (l *Links) Drop(url string) {
	i := strings.LastIndex(url, LinkPath)
	if i < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.files, url[i+len(LinkPath):])
}

// Forget drops every file of a user (they asked to be forgotten).
func (l *Links) Forget(k trustbot.UserKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for t, f := range l.files {
		if f.owner == k {
			delete(l.files, t)
		}
	}
}

func (l *Links) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// sweep drops expired files; l.mu is held.
func (l *Links) sweep(now time.Time) {
	for t, f := range l.files {
		if !now.Before(f.expires) {
			delete(l.files, t)
		}
	}
}

// ServeHTTP serves GET /files/{token} once.
func (l *Links) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, LinkPath)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	now := l.now()
	l.mu.Lock()
	l.sweep(now)
	f, ok := l.files[token]
	delete(l.files, token)
	l.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusGone)
		w.Write([]byte(l.Gone + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
	w.Write(f.data)
}
