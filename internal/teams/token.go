package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Outbound token defaults.
const (
	// ConnectorScope is the scope of the tokens the connector accepts.
	ConnectorScope = "https://api.botframework.com/.default"
	// MultiTenantTokenURL is the token endpoint of a multi-tenant bot.
	MultiTenantTokenURL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
	// tokenMargin: a token is replaced this long before it expires, so that
	// none runs out on the way to the connector.
	tokenMargin = 5 * time.Minute
)

// TenantTokenURL is the token endpoint of a single-tenant bot.
func TenantTokenURL(tenantID string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token"
}

// TokenConfig configures a TokenSource.
type TokenConfig struct {
	AppID    string
	Password string
	// TokenURL (TEAMS_TOKEN_URL) is the client-credentials endpoint:
	// TenantTokenURL(TenantID) if empty, or MultiTenantTokenURL for a
	// multi-tenant bot.
	TokenURL string
	TenantID string
	// HTTPClient makes the requests; a client with a 10 s timeout if nil.
	HTTPClient *http.Client
	Now        func() time.Time
}

// TokenSource gets the bot's token for the connector by the OAuth 2.0
// client-credentials grant and keeps it until shortly before it expires.
// One request for a new token is in flight at a time; the others wait for
// it. Neither the password nor a token ever appears in its errors. It is
// safe for concurrent use.
type TokenSource struct {
	cfg TokenConfig

	mu        sync.Mutex
	token     string
	refreshAt time.Time

	sem chan struct{} // one fetch at a time
}

// NewTokenSource returns a TokenSource; nothing is fetched before the
// first Token.
func NewTokenSource(cfg TokenConfig) (*TokenSource, error) {
	if cfg.AppID == "" || cfg.Password == "" {
		return nil, errors.New("teams: the token source needs the app ID and password")
	}
	if cfg.TokenURL == "" {
		if cfg.TenantID == "" {
			return nil, errors.New("teams: the token source needs a tenant ID or a token URL")
		}
		cfg.TokenURL = TenantTokenURL(cfg.TenantID)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TokenSource{cfg: cfg, sem: make(chan struct{}, 1)}, nil
}

// Token returns a token valid for at least a few more minutes.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()
	if tok, ok := s.cached(); ok {
		return tok, nil // fetched while this caller waited
	}
	tok, ttl, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.refreshAt = tok, s.cfg.Now().Add(ttl-min(tokenMargin, ttl/2))
	return tok, nil
}

// Invalidate drops tok if it is the cached token, after the connector
// refused it, so that the next call fetches another.
func (s *TokenSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok != "" && s.token == tok {
		s.token = ""
	}
}

func (s *TokenSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.cfg.Now().Before(s.refreshAt) {
		return s.token, true
	}
	return "", false
}

// fetch asks the token endpoint for a new token.
func (s *TokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.cfg.AppID},
		"client_secret": {s.cfg.Password},
		"scope":         {ConnectorScope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, errors.New("teams: token request: bad token URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// The error names the URL, never the form.
		return "", 0, fmt.Errorf("teams: token request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // a number, or a string of one
		Error       string          `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", 0, fmt.Errorf("teams: token request: HTTP %d, not JSON", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		code := body.Error
		if len(code) > 64 || strings.ContainsAny(code, " \n") {
			code = "unreadable"
		}
		return "", 0, fmt.Errorf("teams: token request refused: HTTP %d %s", resp.StatusCode, code)
	}
	secs, err := strconv.ParseInt(strings.Trim(string(body.ExpiresIn), `"`), 10, 64)
	if err != nil || secs <= 0 {
		secs = 600 // a token whose lifetime is not said is kept briefly
	}
	return body.AccessToken, time.Duration(secs) * time.Second, nil
}
