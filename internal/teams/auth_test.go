package teams

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// botEndpoint is the part of a messaging endpoint the verifier serves:
// the body read once, the activity parsed, the token checked against its
// serviceUrl and channelId. It answers the refusal's status and reason.
func botEndpoint(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxActivityBytes))
		if err != nil {
			http.Error(w, "body", http.StatusRequestEntityTooLarge)
			return
		}
		a, err := ParseActivity(body)
		if err != nil {
			http.Error(w, "activity", http.StatusBadRequest)
			return
		}
		if _, err := v.Verify(r.Context(), r.Header.Get("Authorization"), a.ServiceURL, a.ChannelID); err != nil {
			ae, ok := errors.AsType[*AuthError](err)
			if !ok {
				t.Errorf("Verify returned %T, want *AuthError", err)
				http.Error(w, "?", http.StatusInternalServerError)
				return
			}
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && len(tok) > 8 && strings.Contains(ae.Error(), tok) {
				t.Errorf("the error holds the token")
			}
			http.Error(w, ae.Reason, ae.Status)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type authFixture struct {
	fake  *fakebf.Server
	clock *clock
	v     *Verifier
	bot   *httptest.Server
	user  fakebf.User
}

func newAuthFixture(t *testing.T, tweak func(*VerifierConfig, *fakebf.Server)) *authFixture {
	t.Helper()
	fake := fakebf.New(fakebf.Config{})
	t.Cleanup(fake.Close)
	c := newClock()
	fake.SetClock(c.Now)
	cfg := VerifierConfig{AppID: fake.AppID(), MetadataURL: fake.MetadataURL(), HTTPClient: fake.Client(), Now: c.Now}
	if tweak != nil {
		tweak(&cfg, fake)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &authFixture{fake: fake, clock: c, v: v, bot: botEndpoint(t, v), user: fakebf.NewUser("Sato Hanako", "ja-JP", "Asia/Tokyo")}
}

func (f *authFixture) post(t *testing.T, forgery fakebf.Forgery) (int, string) {
	t.Helper()
	status, body, err := f.fake.Post(context.Background(), f.bot.URL, f.fake.Personal(f.user, "help"), forgery)
	if err != nil {
		t.Fatal(err)
	}
	return status, strings.TrimSpace(string(body))
}

func TestVerifyRefusesEveryBadToken(t *testing.T) {
	cases := []struct {
		name    string
		forgery fakebf.Forgery
		status  int
		reason  string
	}{
		{"no token", fakebf.NoToken, 401, ReasonMissingToken},
		{"wrong issuer", fakebf.WrongIssuer, 401, ReasonIssuer},
		{"wrong audience", fakebf.WrongAudience, 401, ReasonAudience},
		{"expired", fakebf.Expired, 401, ReasonExpired},
		{"not yet valid", fakebf.NotYetValid, 401, ReasonNotYetValid},
		{"unknown key", fakebf.UnknownKey, 401, ReasonUnknownKey},
		{"key without the endorsement", fakebf.Unendorsed, 403, ReasonEndorsement},
		{"serviceurl claim mismatch", fakebf.ServiceURLMismatch, 401, ReasonServiceURL},
		{"alg none", fakebf.AlgNone, 401, ReasonAlgorithm},
		{"HS256 with the public key", fakebf.HS256PublicKey, 401, ReasonAlgorithm},
		{"serviceUrl changed after signing", fakebf.TamperedServiceURL, 401, ReasonServiceURL},
		{"tenant issuer on a multi-tenant check", fakebf.TenantIssued, 401, ReasonIssuer},
	}
	f := newAuthFixture(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, reason := f.post(t, tc.forgery)
			if status != tc.status || reason != tc.reason {
				t.Errorf("got %d %q, want %d %q", status, reason, tc.status, tc.reason)
			}
		})
	}
}

func TestVerifyAcceptsGenuineTokens(t *testing.T) {
	f := newAuthFixture(t, nil)
	for _, forgery := range []fakebf.Forgery{fakebf.Genuine, fakebf.WithinSkew} {
		if status, reason := f.post(t, forgery); status != http.StatusOK {
			t.Errorf("forgery %d: got %d %q, want 200", forgery, status, reason)
		}
	}
	// A signer whose clock is four minutes ahead: not valid for four more
	// minutes by the verifier's clock, which is inside the skew.
	f.clock.Advance(4 * time.Minute)
	tok := f.fake.Token(f.fake.ServiceURL(), fakebf.Genuine)
	f.clock.Advance(-4 * time.Minute)
	if _, err := f.v.Verify(context.Background(), "Bearer "+tok, f.fake.ServiceURL(), "msteams"); err != nil {
		t.Errorf("a token valid from four minutes ahead: %v", err)
	}
}

func TestVerifyChecksChannelOfTheActivity(t *testing.T) {
	f := newAuthFixture(t, nil)
	tok := f.fake.Token(f.fake.ServiceURL(), fakebf.Genuine)
	_, err := f.v.Verify(context.Background(), "Bearer "+tok, f.fake.ServiceURL(), "webchat")
	if ae, ok := errors.AsType[*AuthError](err); !ok || ae.Status != 403 || ae.Reason != ReasonEndorsement {
		t.Errorf("a Teams key used for another channel: %v, want 403 %s", err, ReasonEndorsement)
	}
	if _, err := f.v.Verify(context.Background(), "Bearer "+tok, f.fake.ServiceURL(), "msteams"); err != nil {
		t.Errorf("msteams: %v", err)
	}
}

func TestVerifySingleTenantAcceptsTheTenantIssuer(t *testing.T) {
	f := newAuthFixture(t, func(c *VerifierConfig, fake *fakebf.Server) {
		c.TenantID, c.TenantMetadataURL = fake.TenantID(), fake.TenantMetadataURL()
	})
	v := f.v
	if status, reason := f.post(t, fakebf.TenantIssued); status != http.StatusOK {
		t.Errorf("tenant issuer: got %d %q, want 200", status, reason)
	}
	if status, _ := f.post(t, fakebf.Genuine); status != http.StatusOK {
		t.Errorf("Bot Framework issuer on a single-tenant check: got %d, want 200", status)
	}
	if status, reason := f.post(t, fakebf.WrongIssuer); status != 401 || reason != ReasonIssuer {
		t.Errorf("wrong issuer: got %d %q", status, reason)
	}
	// A tenant token whose serviceurl is not the activity's fails like any.
	tok := f.fake.Token("https://elsewhere.example/teams/", fakebf.TenantIssued)
	if _, err := v.Verify(context.Background(), "Bearer "+tok, f.fake.ServiceURL(), "msteams"); err == nil {
		t.Error("a tenant token for another service URL was accepted")
	}
	if n := f.fake.Count("tenant_keys"); n != 1 {
		t.Errorf("tenant keys fetched %d times, want 1", n)
	}
}

func TestVerifyFetchesKeysAgainForAnUnknownKeyAtMostOncePerInterval(t *testing.T) {
	f := newAuthFixture(t, nil)
	if status, _ := f.post(t, fakebf.Genuine); status != 200 {
		t.Fatalf("genuine: %d", status)
	}
	if n := f.fake.Count("keys"); n != 1 {
		t.Fatalf("keys fetched %d times, want 1", n)
	}
	// A flood of tokens with a key ID nobody published.
	for range 20 {
		if status, reason := f.post(t, fakebf.UnknownKey); status != 401 || reason != ReasonUnknownKey {
			t.Fatalf("unknown key: %d %q", status, reason)
		}
	}
	if n := f.fake.Count("keys"); n != 1 {
		t.Errorf("within the interval, keys fetched %d times, want 1", n)
	}
	f.clock.Advance(DefaultMinRefreshInterval + time.Second)
	for range 20 {
		f.post(t, fakebf.UnknownKey)
	}
	if n := f.fake.Count("keys"); n != 2 {
		t.Errorf("after the interval, keys fetched %d times, want 2", n)
	}
	// The key is published (a rotation the cache has not seen): once the
	// interval has passed, the first token signed with it brings it in.
	f.fake.PublishHiddenKey()
	f.clock.Advance(DefaultMinRefreshInterval + time.Second)
	if status, reason := f.post(t, fakebf.UnknownKey); status != 200 {
		t.Errorf("after the rotation: %d %q, want 200", status, reason)
	}
	if n := f.fake.Count("keys"); n != 3 {
		t.Errorf("keys fetched %d times, want 3", n)
	}
}

func TestVerifyFollowsAKeyRotation(t *testing.T) {
	f := newAuthFixture(t, nil)
	f.post(t, fakebf.Genuine)
	f.clock.Advance(10 * time.Minute)
	f.fake.RotateKey()
	if status, reason := f.post(t, fakebf.Genuine); status != 200 {
		t.Errorf("signed with the new key: %d %q", status, reason)
	}
}

func TestVerifyRefreshesKeysDaily(t *testing.T) {
	f := newAuthFixture(t, nil)
	f.post(t, fakebf.Genuine)
	f.clock.Advance(23 * time.Hour)
	f.post(t, fakebf.Genuine)
	if n := f.fake.Count("metadata"); n != 1 {
		t.Errorf("after 23 h, metadata fetched %d times, want 1", n)
	}
	f.clock.Advance(2 * time.Hour)
	if status, _ := f.post(t, fakebf.Genuine); status != 200 {
		t.Errorf("after 25 h: %d", status)
	}
	if n, k := f.fake.Count("metadata"), f.fake.Count("keys"); n != 2 || k != 2 {
		t.Errorf("after 25 h, metadata fetched %d and keys %d times, want 2 and 2", n, k)
	}
}

// flaky serves the fake's endpoints until told to fail.
func flaky(t *testing.T, fake *fakebf.Server) (*httptest.Server, *sync.Mutex, *bool) {
	var mu sync.Mutex
	down := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		resp, err := fake.Client().Get(fake.URL() + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &mu, &down
}

func TestVerifyKeepsOldKeysWhenARefreshFails(t *testing.T) {
	f := newAuthFixture(t, nil)
	proxy, mu, down := flaky(t, f.fake)
	v, err := NewVerifier(VerifierConfig{AppID: f.fake.AppID(), MetadataURL: proxy.URL + "/v1/.well-known/openidconfiguration", HTTPClient: f.fake.Client(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = botEndpoint(t, v)
	mu.Lock()
	*down = true
	mu.Unlock()
	if status, reason := f.post(t, fakebf.Genuine); status != 503 || reason != ReasonKeysUnavailable {
		t.Errorf("no keys at all: %d %q, want 503 %s", status, reason, ReasonKeysUnavailable)
	}
	mu.Lock()
	*down = false
	mu.Unlock()
	f.clock.Advance(time.Minute) // past the retry of a verifier with no keys
	if status, reason := f.post(t, fakebf.Genuine); status != 200 {
		t.Fatalf("keys back: %d %q", status, reason)
	}
	mu.Lock()
	*down = true
	mu.Unlock()
	f.clock.Advance(25 * time.Hour)
	if status, reason := f.post(t, fakebf.Genuine); status != 200 {
		t.Errorf("stale keys while the endpoint is down: %d %q, want 200", status, reason)
	}
}

func TestVerifyFetchesOnceForConcurrentFirstRequests(t *testing.T) {
	f := newAuthFixture(t, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if status, reason := f.post(t, fakebf.Genuine); status != 200 {
				t.Errorf("%d %q", status, reason)
			}
		})
	}
	wg.Wait()
	if n := f.fake.Count("keys"); n != 1 {
		t.Errorf("keys fetched %d times by 16 concurrent first requests, want 1", n)
	}
}

func TestVerifyRefusesMalformedHeaders(t *testing.T) {
	f := newAuthFixture(t, nil)
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic abc", "bearer not.a.jwt", "Bearer " + strings.Repeat("a", 20000)} {
		_, err := f.v.Verify(context.Background(), h, f.fake.ServiceURL(), "msteams")
		ae, ok := errors.AsType[*AuthError](err)
		if !ok || ae.Status != 401 {
			t.Errorf("%.20q: %v, want a 401", h, err)
		}
	}
}
