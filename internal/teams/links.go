package teams

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Limits of the links to files.
const (
	// LinkTTL is how long a link works: long enough to tap it, short
	// enough that a forwarded message is harmless soon after.
	LinkTTL = 10 * time.Minute
	// LinkPath is where links are served, on the public address.
	LinkPath = "/files/"
)

// tokenLen is the length of a link's token: 128 random bits, base64url.
const tokenLen = 22

// Links serves each user's files (their data export) from single-use
// links that expire after LinkTTL. A link is a random 128-bit token, sent
// only into the user's personal chat; it is the only key to the file, and
// it is gone once used. The files are kept in the database, where every
// replica finds them: the download works whichever replica the load
// balancer sends it to.
type Links struct {
	Files trustbot.FileStore
	// Gone is the page for a link that has expired or was used; Busy the
	// page for one the database could not look up for now (it still
	// works).
	Gone, Busy string
	Logger     *slog.Logger
	Now        func() time.Time
}

// Put keeps data for owner and returns its link under base (the public
// URL, such as https://bot.example.com).
func (l *Links) Put(ctx context.Context, owner trustbot.UserKey, name string, data []byte, base string) (string, error) {
	if base == "" {
		return "", errors.New("teams: no public URL known for links")
	}
	var b [16]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	f := trustbot.LinkedFile{Token: token, Owner: owner, Name: name, Data: data, Expires: l.now().Add(LinkTTL)}
	if err := l.Files.PutFile(ctx, f); err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + LinkPath + token, nil
}

// Drop forgets a link that could not be given to its owner.
func (l *Links) Drop(ctx context.Context, url string) {
	i := strings.LastIndex(url, LinkPath)
	if i < 0 {
		return
	}
	if err := l.Files.DropFile(ctx, url[i+len(LinkPath):]); err != nil {
		l.logger().Warn("a link that was not given could not be dropped; it expires", "err", err)
	}
}

func (l *Links) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Links) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// validToken reports whether s could be a token Put made.
func validToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
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
	page := func(status int, text string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(text + "\n"))
	}
	if !validToken(token) {
		page(http.StatusGone, l.Gone)
		return
	}
	f, ok, err := l.Files.TakeFile(r.Context(), token, l.now())
	switch {
	case trustbot.ErrorCode(err) == trustbot.EUNAVAILABLE:
		// Nothing was taken: the link works when the database answers.
		l.logger().Warn("a file link could not be looked up; it still works", "err", err)
		w.Header().Set("Retry-After", "5")
		page(http.StatusServiceUnavailable, l.Busy)
		return
	case err != nil:
		l.logger().Warn("a file behind a link could not be read; the link is used", "err", err)
		page(http.StatusGone, l.Gone)
		return
	case !ok:
		page(http.StatusGone, l.Gone)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Write(f.Data)
}
