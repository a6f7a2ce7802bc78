package teams

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
)

func newTokenFixture(t *testing.T, cfg fakebf.Config) (*fakebf.Server, *clock, *TokenSource) {
	t.Helper()
	fake := fakebf.New(cfg)
	t.Cleanup(fake.Close)
	c := newClock()
	fake.SetClock(c.Now)
	ts, err := NewTokenSource(TokenConfig{AppID: fake.AppID(), Password: fake.Password(), TokenURL: fake.TokenURL(), HTTPClient: fake.Client(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, ts
}

func TestTokenIsCachedAndRenewedBeforeItExpires(t *testing.T) {
	fake, c, ts := newTokenFixture(t, fakebf.Config{TokenTTL: time.Hour})
	ctx := context.Background()
	first, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(54 * time.Minute)
	again, err := ts.Token(ctx)
	if err != nil || again != first {
		t.Fatalf("54 min later: %v, same token %v", err, again == first)
	}
	if n := fake.Count("token"); n != 1 {
		t.Errorf("token endpoint asked %d times, want 1", n)
	}
	c.Advance(2 * time.Minute) // four minutes before expiry: inside the margin
	renewed, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if renewed == first || fake.Count("token") != 2 {
		t.Errorf("56 min later: renewed %v, endpoint asked %d times, want a new token and 2", renewed != first, fake.Count("token"))
	}
}

func TestTokenWithAShortLifetimeIsStillCached(t *testing.T) {
	fake, c, ts := newTokenFixture(t, fakebf.Config{TokenTTL: 2 * time.Minute})
	ts.Token(context.Background())
	c.Advance(50 * time.Second)
	ts.Token(context.Background())
	if n := fake.Count("token"); n != 1 {
		t.Errorf("endpoint asked %d times, want 1", n)
	}
}

func TestTokenOneFetchInFlight(t *testing.T) {
	fake, _, ts := newTokenFixture(t, fakebf.Config{})
	var wg sync.WaitGroup
	tokens := make([]string, 16)
	for i := range tokens {
		wg.Go(func() {
			tok, err := ts.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	if n := fake.Count("token"); n != 1 {
		t.Errorf("16 concurrent callers made %d token requests, want 1", n)
	}
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatal("callers got different tokens")
		}
	}
}

func TestTokenInvalidateFetchesAnother(t *testing.T) {
	fake, _, ts := newTokenFixture(t, fakebf.Config{})
	first, _ := ts.Token(context.Background())
	ts.Invalidate("some other token")
	if again, _ := ts.Token(context.Background()); again != first {
		t.Error("invalidating another token dropped the cached one")
	}
	ts.Invalidate(first)
	second, _ := ts.Token(context.Background())
	if second == first || fake.Count("token") != 2 {
		t.Errorf("after Invalidate: new token %v, %d requests", second != first, fake.Count("token"))
	}
}

func TestTokenRefusedNeverShowsTheSecret(t *testing.T) {
	fake := fakebf.New(fakebf.Config{})
	t.Cleanup(fake.Close)
	secret := "wrong-secret-4b1d"
	ts, err := NewTokenSource(TokenConfig{AppID: fake.AppID(), Password: secret, TokenURL: fake.TokenURL(), HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if err == nil {
		t.Fatal("a wrong secret got a token")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error %q: want the code, never the secret", err)
	}
	if fake.Count("token_refused") != 1 {
		t.Errorf("the fake refused %d requests, want 1", fake.Count("token_refused"))
	}
}

func TestTokenURLs(t *testing.T) {
	if _, err := NewTokenSource(TokenConfig{AppID: "a", Password: "p"}); err == nil {
		t.Error("neither a tenant nor a URL: accepted")
	}
	ts, err := NewTokenSource(TokenConfig{AppID: "a", Password: "p", TenantID: "contoso-tenant"})
	if err != nil || ts.cfg.TokenURL != "https://login.microsoftonline.com/contoso-tenant/oauth2/v2.0/token" {
		t.Errorf("single-tenant URL %q, %v", ts.cfg.TokenURL, err)
	}
	// The multi-tenant endpoint of the fake answers too.
	fake := fakebf.New(fakebf.Config{})
	t.Cleanup(fake.Close)
	multi, _ := NewTokenSource(TokenConfig{AppID: fake.AppID(), Password: fake.Password(), TokenURL: fake.URL() + "/botframework.com/oauth2/v2.0/token", HTTPClient: fake.Client()})
	if _, err := multi.Token(context.Background()); err != nil {
		t.Errorf("multi-tenant: %v", err)
	}
}
