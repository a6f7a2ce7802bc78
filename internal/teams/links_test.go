package teams

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/testdb"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// memFiles is a FileStore in memory whose takes can be made to fail as
// a busy database's do.
type memFiles struct {
	mu    sync.Mutex
	files map[string]trustbot.LinkedFile
	busy  bool
	takes int
}

func (m *memFiles) PutFile(_ context.Context, f trustbot.LinkedFile) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]trustbot.LinkedFile{}
	}
	m.files[f.Token] = f
	return nil
}

func (m *memFiles) TakeFile(_ context.Context, token string, now time.Time) (trustbot.LinkedFile, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.takes++
	if m.busy {
		return trustbot.LinkedFile{}, false, &trustbot.Error{Code: trustbot.EUNAVAILABLE, Message: "database busy"}
	}
	f, ok := m.files[token]
	delete(m.files, token)
	return f, ok && now.Before(f.Expires), nil
}

func (m *memFiles) DropFile(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, token)
	return nil
}

func (m *memFiles) PurgeFiles(context.Context, time.Time) (int64, error) { return 0, nil }

// TestLinkServedOnceAndKeptWhileBusy: a link gives its file once; a
// database that cannot look it up for now gets the busy page (with
// Retry-After) and the link keeps working; a path that is no token Put
// makes is gone without a look-up; a dropped link is gone.
func TestLinkServedOnceAndKeptWhileBusy(t *testing.T) {
	files := &memFiles{}
	l := &Links{Files: files, Gone: "gone", Busy: "busy"}
	owner := trustbot.UserKey{Team: trustbot.TeamsWorkspace("tenant"), User: "29:user"}
	ctx := context.Background()
	url, err := l.Put(ctx, owner, "export.json", []byte(`{"user":"29:user"}`), "https://bot.example.com/")
	if err != nil || !strings.HasPrefix(url, "https://bot.example.com"+LinkPath) {
		t.Fatalf("link %q: %v", url, err)
	}
	path := strings.TrimPrefix(url, "https://bot.example.com")
	get := func(p string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		return rec
	}
	files.busy = true
	if rec := get(path); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "busy") {
		t.Fatalf("with the database busy: %d %q %q", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
	files.busy = false
	rec := get(path)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"user":"29:user"}` || !strings.Contains(rec.Header().Get("Content-Disposition"), "export.json") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("the download: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	if rec := get(path); rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "gone") {
		t.Fatalf("the link used twice: %d %q", rec.Code, rec.Body.String())
	}
	before := files.takes
	for _, p := range []string{LinkPath, LinkPath + "short", LinkPath + strings.Repeat("!", tokenLen), LinkPath + "../../etc/passwd"} {
		if rec := get(p); rec.Code != http.StatusGone {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if files.takes != before {
		t.Error("a path that is no token was looked up")
	}
	url, _ = l.Put(ctx, owner, "export.json", []byte(`{}`), "https://bot.example.com")
	l.Drop(ctx, url)
	if rec := get(strings.TrimPrefix(url, "https://bot.example.com")); rec.Code != http.StatusGone {
		t.Fatalf("a dropped link: %d", rec.Code)
	}
	post := httptest.NewRecorder()
	l.ServeHTTP(post, httptest.NewRequest(http.MethodPost, path, nil))
	if post.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", post.Code)
	}
}

// TestLinkExpiresAfterTTL: on a real database, a link still gives its
// file just before 10 minutes have passed since it was made; at 10
// minutes and after, it gets the page that says it expired, in Japanese and English,
// and nothing of the file, then or later.
func TestLinkExpiresAfterTTL(t *testing.T) {
	lib := library(t)
	gone := lib.T(trustbot.Japanese, "export.link_gone") + "\n" + lib.T(trustbot.English, "export.link_gone")
	// The store drops expired files by its own clock as it keeps new
	// ones: the links are made now.
	now := time.Now()
	l := &Links{Files: testdb.Open(t), Gone: gone, Busy: "busy", Now: func() time.Time { return now }}
	owner := trustbot.UserKey{Team: trustbot.TeamsWorkspace("tenant"), User: "29:user"}
	ctx := context.Background()
	const data = `{"user":"29:user","notes":["朝の挨拶"]}`
	put := func() string {
		url, err := l.Put(ctx, owner, "export.json", []byte(data), "https://bot.example.com")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(url, "https://bot.example.com")
	}
	get := func(p string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		return rec
	}
	made := now
	inTime, late, later := put(), put(), put()

	now = made.Add(10*time.Minute - time.Second)
	if rec := get(inTime); rec.Code != http.StatusOK || rec.Body.String() != data {
		t.Fatalf("a second before it expires: %d %q", rec.Code, rec.Body.String())
	}
	for _, c := range []struct {
		path  string
		after time.Duration
	}{{late, 10 * time.Minute}, {later, time.Hour}} {
		now = made.Add(c.after)
		rec := get(c.path)
		body := rec.Body.String()
		if rec.Code != http.StatusGone || strings.Contains(body, "朝の挨拶") || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("%v after it was made: %d %v %q", c.after, rec.Code, rec.Header(), body)
		}
		for _, lang := range []trustbot.Lang{trustbot.Japanese, trustbot.English} {
			if !strings.Contains(body, lib.T(lang, "export.link_gone")) {
				t.Errorf("%v after it was made, the page lacks the %s text: %q", c.after, lang, body)
			}
		}
		// Nor does the clock turned back bring it back.
		now = made
		if rec := get(c.path); rec.Code != http.StatusGone || strings.Contains(rec.Body.String(), "朝の挨拶") {
			t.Fatalf("an expired link served later: %d %q", rec.Code, rec.Body.String())
		}
	}
}
