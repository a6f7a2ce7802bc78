// Package fakebf is a fake Bot Framework for tests: the identity side (an
// OpenID configuration, a key set whose keys carry endorsements, and a
// client-credentials token endpoint), the Connector REST API that records
// what a Teams user would see, and a user side that signs activities the
// way the Bot Framework does and posts them to a bot. Failures can be
// injected: throttling with Retry-After, 412, 5xx, 403 with a Teams error
// code, and slow answers. It behaves like the real service in what trustbot
// relies on; it is not a Teams client.
package fakebf

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/conntrack"
)

// Identities the fake uses unless told otherwise.
const (
	AppID    = "00000000-0000-4000-8000-00000000b07a"
	Password = "fake-app-password"
	TenantID = "72f988bf-0000-4000-8000-0000000fa4e0"
	BotName  = "trustbot"
	// Issuer is the Bot Framework's issuer, as the real metadata names it.
	Issuer = "https://api.botframework.com"
	// Scope is the scope a bot asks tokens for.
	Scope = "https://api.botframework.com/.default"
	// ChannelID is Teams' channel ID, which the keys are endorsed for.
	ChannelID = "msteams"
)

// Config sets up a Server; the zero value uses the constants above.
type Config struct {
	AppID, Password, TenantID string
	// TokenTTL is the lifetime of the tokens the token endpoint issues
	// (an hour, like the real one, if zero).
	TokenTTL time.Duration
	// Anonymous lets any or no bearer token through the connector, as the
	// Agents Playground's connector does.
	Anonymous bool
	// PlainHTTP serves http instead of https (with a certificate of its
	// own, which Client and CertPEM trust), as a local development
	// connector does.
	PlainHTTP bool
}

// Server is a running fake Bot Framework.
type Server struct {
	cfg   Config
	srv   *httptest.Server
	conns *conntrack.Tracker

	mu       sync.Mutex
	now      func() time.Time
	keys     []*key // served in the key set, in order
	signer   *key   // signs activities
	hidden   *key   // never served: the "unknown kid"
	tenant   *key   // the tenant's Entra key (no endorsements)
	tokens   map[string]time.Time
	counts   map[string]int
	convs    map[string]*conversation
	order    []string
	faults   []*Fault
	requests []Request
	nextID   int
	changed  chan struct{} // closed when a conversation changes
}

type key struct {
	priv         *rsa.PrivateKey
	kid          string
	endorsements []string
}

func newKey(endorsements ...string) *key {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("fakebf: " + err.Error())
	}
	sum := sha256.Sum256(priv.N.Bytes())
	return &key{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), endorsements: endorsements}
}

// New starts a fake Bot Framework. Close it when done.
func New(cfg Config) *Server {
	if cfg.AppID == "" {
		cfg.AppID = AppID
	}
	if cfg.Password == "" {
		cfg.Password = Password
	}
	if cfg.TenantID == "" {
		cfg.TenantID = TenantID
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	s := &Server{
		cfg:    cfg,
		now:    time.Now,
		tokens: map[string]time.Time{},
		counts: map[string]int{},
		convs:  map[string]*conversation{},
		conns:  conntrack.New(),
	}
	s.signer = cachedKey(0, ChannelID, "skype")
	s.keys = []*key{s.signer, cachedKey(1)} // the second is endorsed for nothing
	s.hidden = cachedKey(2, ChannelID)
	s.tenant = cachedKey(3)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", s.metadata)
	mux.HandleFunc("GET /v1/.well-known/keys", s.jwks)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.tenantMetadata)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.tenantJWKS)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	s.connectorRoutes(mux)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ConnState = s.conns.ConnState
	if cfg.PlainHTTP {
		s.srv.Start()
	} else {
		s.srv.StartTLS()
	}
	return s
}

// Keys take a moment to generate: the first few are made once per test
// binary and shared by every Server.
var (
	keyCacheMu sync.Mutex
	keyCache   = map[int]*rsa.PrivateKey{}
)

func cachedKey(slot int, endorsements ...string) *key {
	keyCacheMu.Lock()
	priv, ok := keyCache[slot]
	keyCacheMu.Unlock()
	if !ok {
		k := newKey(endorsements...)
		keyCacheMu.Lock()
		keyCache[slot] = k.priv
		keyCacheMu.Unlock()
		return k
	}
	sum := sha256.Sum256(priv.N.Bytes())
	return &key{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), endorsements: endorsements}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// WaitClientsGone waits until the fake has finished with every connection
// its clients opened before the call: each request on them answered and
// the connection closed. It is for a test whose client process was
// killed: once it returns, nothing more of that client's can reach the
// fake. A client still connected keeps it waiting until ctx ends.
func (s *Server) WaitClientsGone(ctx context.Context) error {
	return s.conns.WaitClosed(ctx, s.srv.Listener.Addr().String())
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertPEM is the server's certificate, for a process that must trust it
// (SSL_CERT_FILE); nil over plain http.
func (s *Server) CertPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// MetadataURL is the Bot Framework OpenID configuration
// (TEAMS_OPENID_METADATA_URL).
func (s *Server) MetadataURL() string { return s.srv.URL + "/v1/.well-known/openidconfiguration" }

// TenantMetadataURL is the tenant's Microsoft Entra OpenID configuration.
func (s *Server) TenantMetadataURL() string {
	return s.srv.URL + "/" + s.cfg.TenantID + "/v2.0/.well-known/openid-configuration"
}

// TenantIssuer is the v2.0 issuer of the tenant's Entra tokens.
func (s *Server) TenantIssuer() string {
	return "https://login.microsoftonline.com/" + s.cfg.TenantID + "/v2.0"
}

// TokenURL is the client-credentials token endpoint for the tenant
// (TEAMS_TOKEN_URL).
func (s *Server) TokenURL() string { return s.srv.URL + "/" + s.cfg.TenantID + "/oauth2/v2.0/token" }

// ServiceURL is the connector's service URL, as activities carry it.
func (s *Server) ServiceURL() string { return s.srv.URL + "/teams/" }

// AppID returns the bot's app ID.
func (s *Server) AppID() string { return s.cfg.AppID }

// Password returns the bot's app password.
func (s *Server) Password() string { return s.cfg.Password }

// TenantID returns the tenant's ID.
func (s *Server) TenantID() string { return s.cfg.TenantID }

// BotID is the bot's ID in Teams conversations.
func (s *Server) BotID() string { return "28:" + s.cfg.AppID }

// SetClock replaces the clock that signs tokens, expires issued tokens and
// stamps recorded requests.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Count returns how many requests an endpoint has had: "metadata", "keys",
// "tenant_metadata", "tenant_keys", "token", "token_refused".
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.counts[endpoint]++
	s.mu.Unlock()
}

// RotateKey starts signing with a new key endorsed for Teams, served in the
// key set from now on beside the old ones. It returns the new key's ID.
func (s *Server) RotateKey() string {
	k := newKey(ChannelID, "skype")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
	s.signer = k
	return k.kid
}

// PublishHiddenKey adds the key that unknown-kid tokens are signed with to
// the key set, as a rotation that the bot has not fetched yet would.
func (s *Server) PublishHiddenKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, s.hidden)
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	s.count("metadata")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                Issuer,
		"authorization_endpoint":                "https://invalid.botframework.com",
		"jwks_uri":                              s.srv.URL + "/v1/.well-known/keys",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	s.count("keys")
	s.mu.Lock()
	keys := append([]*key(nil), s.keys...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": jwkList(keys)})
}

func (s *Server) tenantMetadata(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("tenant") != s.cfg.TenantID {
		http.NotFound(w, r)
		return
	}
	s.count("tenant_metadata")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":   s.TenantIssuer(),
		"jwks_uri": s.srv.URL + "/" + s.cfg.TenantID + "/discovery/v2.0/keys",
	})
}

func (s *Server) tenantJWKS(w http.ResponseWriter, r *http.Request) {
	s.count("tenant_keys")
	writeJSON(w, http.StatusOK, map[string]any{"keys": jwkList([]*key{s.tenant})})
}

func jwkList(keys []*key) []map[string]any {
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		m := map[string]any{
			"kty": "RSA",
			"use": "sig",
			"kid": k.kid,
			"n":   base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
		}
		if k.endorsements != nil {
			m["endorsements"] = k.endorsements
		}
		out = append(out, m)
	}
	return out
}

// token is the client-credentials grant of the Microsoft identity platform.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		s.count("token_refused")
		return
	}
	tenant := r.PathValue("tenant")
	f := r.PostForm
	switch {
	case tenant != s.cfg.TenantID && tenant != "botframework.com":
		tokenError(w, http.StatusBadRequest, "invalid_tenant")
	case f.Get("grant_type") != "client_credentials":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
	case f.Get("client_id") != s.cfg.AppID || f.Get("client_secret") != s.cfg.Password:
		tokenError(w, http.StatusUnauthorized, "invalid_client")
	case f.Get("scope") != Scope:
		tokenError(w, http.StatusBadRequest, "invalid_scope")
	default:
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		tok := "fakebf." + hex.EncodeToString(b)
		s.mu.Lock()
		s.tokens[tok] = s.now().Add(s.cfg.TokenTTL)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     int(s.cfg.TokenTTL / time.Second),
			"ext_expires_in": int(s.cfg.TokenTTL / time.Second),
			"access_token":   tok,
		})
		return
	}
	s.count("token_refused")
}

// ExpireTokens makes every token issued so far invalid, as if they had
// run out early.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": "fakebf: " + code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorized reports whether r carries a token the token endpoint issued
// and that has not expired.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Anonymous {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

func (s *Server) newID(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%d", prefix, 1_700_000_000_000+s.nextID)
}
