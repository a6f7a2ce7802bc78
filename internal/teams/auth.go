package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults of the inbound token check.
const (
	// DefaultOpenIDMetadataURL is the Bot Framework's OpenID configuration:
	// its jwks_uri lists the keys that sign the tokens Teams sends.
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// BotFrameworkIssuer is the issuer of the Bot Framework's tokens.
	BotFrameworkIssuer = "https://api.botframework.com"
	// ClockSkew is allowed on a token's expiry and not-before times.
	ClockSkew = 5 * time.Minute
	// KeyRefreshInterval is the longest keys are used before they are
	// fetched again.
	KeyRefreshInterval = 24 * time.Hour
	// DefaultMinRefreshInterval is the shortest time between two fetches
	// caused by a token signed with an unknown key: a stream of forged key
	// IDs costs the key endpoint one request per interval at most.
	DefaultMinRefreshInterval = 5 * time.Minute

	noKeysRetry      = 10 * time.Second
	maxTokenBytes    = 16 << 10
	maxMetadataBytes = 1 << 20
)

// Reasons an inbound token is refused, as logged and counted. The list is
// closed, so that they make bounded metric labels.
const (
	ReasonMissingToken      = "missing_token"
	ReasonMalformed         = "malformed"
	ReasonAlgorithm         = "algorithm"
	ReasonUnknownKey        = "unknown_key"
	ReasonSignature         = "signature"
	ReasonIssuer            = "issuer"
	ReasonAudience          = "audience"
	ReasonExpired           = "expired"
	ReasonNotYetValid       = "not_yet_valid"
	ReasonServiceURL        = "service_url"
	ReasonEndorsement       = "endorsement"
	ReasonKeysUnavailable   = "keys_unavailable"
	ReasonMissingServiceURL = "activity_without_service_url"
	ReasonMissingChannelID  = "activity_without_channel"
	ReasonClaimsInvalid     = "claims"
)

// AuthError is a refused inbound request: Status is the HTTP status to
// answer (401 for a missing or invalid token, 403 for a valid token that
// may not speak for the activity's channel, 503 when the keys could not be
// fetched to check it) and Reason one of the Reason constants. Its text
// never holds the token.
type AuthError struct {
	Status int
	Reason string
	Err    error
}

func (e *AuthError) Error() string {
	if e.Err == nil {
		return "teams auth: " + e.Reason
	}
	return "teams auth: " + e.Reason + ": " + e.Err.Error()
}

func (e *AuthError) Unwrap() error { return e.Err }

func refuse(status int, reason string, err error) *AuthError {
	return &AuthError{Status: status, Reason: reason, Err: err}
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// AppID is the bot's Microsoft App ID: the audience every token must
	// name. Required.
	AppID string
	// MetadataURL is the Bot Framework's OpenID configuration
	// (TEAMS_OPENID_METADATA_URL); DefaultOpenIDMetadataURL if empty. The
	// accepted issuer is the one the metadata names, BotFrameworkIssuer if
	// it names none.
	MetadataURL string
	// TenantID, for a single-tenant app, also accepts tokens issued by the
	// tenant's Microsoft Entra ID (https://sts.windows.net/{tenant}/ and
	// https://login.microsoftonline.com/{tenant}/v2.0), checked with the
	// keys of TenantMetadataURL. They pass the same checks as the Bot
	// Framework's, the serviceurl claim included, so that a token some
	// other application of the tenant obtained for the bot's app ID cannot
	// pass; only the endorsement check differs: Entra's keys carry no
	// endorsements, so it applies to a tenant key only if it lists some.
	TenantID string
	// TenantMetadataURL defaults to the tenant's v2.0 OpenID configuration
	// on login.microsoftonline.com.
	TenantMetadataURL string
	// HTTPClient fetches metadata and keys; a client with a 10 s timeout if nil.
	HTTPClient *http.Client
	// MinRefreshInterval: see DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// Now is the clock (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Claims are what a verified token says.
type Claims struct {
	Issuer     string
	AppID      string
	ServiceURL string
	KeyID      string
}

// Verifier checks the tokens on inbound Bot Framework requests. It is safe
// for concurrent use.
type Verifier struct {
	appID      string
	http       *http.Client
	now        func() time.Time
	log        *slog.Logger
	minRefresh time.Duration
	// authorities by issuer; the Bot Framework's is also bf.
	bf      *authority
	byIss   map[string]*authority
	tenants *authority
}

// authority is one source of keys: an OpenID metadata URL, the issuers
// whose tokens its keys sign, and the cached keys.
type authority struct {
	metadataURL string
	// fixedIssuers are accepted whatever the metadata says; for the Bot
	// Framework the metadata's issuer is taken instead.
	fixedIssuers []string
	// requireEndorsement: every key must list the activity's channel.
	requireEndorsement bool

	mu          sync.RWMutex
	keys        map[string]jwk
	issuer      string // from the metadata
	fetched     time.Time
	lastAttempt time.Time

	refresh sync.Mutex // one fetch at a time
}

type jwk struct {
	key          *rsa.PublicKey
	endorsements []string
}

// NewVerifier returns a Verifier; it fetches nothing until the first token.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.AppID == "" {
		return nil, errors.New("teams: the verifier needs the app ID")
	}
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultOpenIDMetadataURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{
		appID: cfg.AppID, http: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger, minRefresh: cfg.MinRefreshInterval,
		bf:    &authority{metadataURL: cfg.MetadataURL, requireEndorsement: true},
		byIss: map[string]*authority{},
	}
	if cfg.TenantID != "" {
		if strings.ContainsAny(cfg.TenantID, "/?#@ ") {
			return nil, errors.New("teams: the tenant ID is not a tenant ID")
		}
		if cfg.TenantMetadataURL == "" {
			cfg.TenantMetadataURL = "https://login.microsoftonline.com/" + cfg.TenantID + "/v2.0/.well-known/openid-configuration"
		}
		v.tenants = &authority{metadataURL: cfg.TenantMetadataURL, fixedIssuers: []string{
			"https://sts.windows.net/" + cfg.TenantID + "/",
			"https://login.microsoftonline.com/" + cfg.TenantID + "/v2.0",
		}}
		for _, iss := range v.tenants.fixedIssuers {
			v.byIss[iss] = v.tenants
		}
	}
	return v, nil
}

// Verify checks the Authorization header of a request whose activity names
// serviceURL and channelID. The caller reads and parses the body once and
// passes those two fields; only after Verify succeeds may it believe
// anything in the activity (and record the service URL as one the bot may
// send its token to). A refusal is an *AuthError.
func (v *Verifier) Verify(ctx context.Context, authorization, serviceURL, channelID string) (*Claims, error) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, refuse(http.StatusUnauthorized, ReasonMissingToken, nil)
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > maxTokenBytes {
		return nil, refuse(http.StatusUnauthorized, ReasonMalformed, errors.New("token too long"))
	}
	if serviceURL == "" {
		return nil, refuse(http.StatusUnauthorized, ReasonMissingServiceURL, nil)
	}
	if channelID == "" {
		return nil, refuse(http.StatusUnauthorized, ReasonMissingChannelID, nil)
	}

	// Which authority's keys to check it with depends on its issuer; the
	// signature, checked next, binds the issuer to those keys.
	var peek jwt.MapClaims
	unverified, _, err := jwt.NewParser().ParseUnverified(raw, &peek)
	if err != nil {
		return nil, refuse(http.StatusUnauthorized, ReasonMalformed, errors.New("not a JWT"))
	}
	if alg, _ := unverified.Header["alg"].(string); alg != "RS256" {
		return nil, refuse(http.StatusUnauthorized, ReasonAlgorithm, fmt.Errorf("alg %q", truncate(alg)))
	}
	iss, _ := peek["iss"].(string)
	auth, err := v.authorityFor(ctx, iss)
	if err != nil {
		return nil, err
	}

	var claims botClaims
	var used jwk
	var kid string
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(v.appID),
	)
	_, err = parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		k, err := v.key(ctx, auth, kid)
		if err != nil {
			return nil, err
		}
		used = k
		return k.key, nil
	})
	if err != nil {
		return nil, v.classify(err)
	}
	// The issuer is checked again on the verified claims: the peek only
	// chose the keys.
	if !auth.accepts(claims.Issuer) {
		return nil, refuse(http.StatusUnauthorized, ReasonIssuer, fmt.Errorf("issuer %q", truncate(claims.Issuer)))
	}
	if claims.ServiceURL != serviceURL {
		return nil, refuse(http.StatusUnauthorized, ReasonServiceURL, errors.New("the serviceurl claim differs from the activity's serviceUrl"))
	}
	if len(used.endorsements) > 0 || auth.requireEndorsement {
		if !slices.Contains(used.endorsements, channelID) {
			return nil, refuse(http.StatusForbidden, ReasonEndorsement, fmt.Errorf("key %q is not endorsed for channel %q", truncate(kid), truncate(channelID)))
		}
	}
	return &Claims{Issuer: claims.Issuer, AppID: v.appID, ServiceURL: claims.ServiceURL, KeyID: kid}, nil
}

// botClaims are the registered claims and the Bot Framework's serviceurl.
type botClaims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// classify turns a parser error into a refusal with its reason.
func (v *Verifier) classify(err error) *AuthError {
	if ae, ok := errors.AsType[*AuthError](err); ok {
		return ae
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuse(http.StatusUnauthorized, ReasonMalformed, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse(http.StatusUnauthorized, ReasonSignature, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(http.StatusUnauthorized, ReasonExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return refuse(http.StatusUnauthorized, ReasonNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refuse(http.StatusUnauthorized, ReasonAudience, err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse(http.StatusUnauthorized, ReasonClaimsInvalid, err)
	}
	return refuse(http.StatusUnauthorized, ReasonClaimsInvalid, err)
}

// authorityFor returns the authority whose keys sign tokens of issuer iss.
// The Bot Framework's issuer comes from its metadata, fetched if need be.
func (v *Verifier) authorityFor(ctx context.Context, iss string) (*authority, error) {
	if a, ok := v.byIss[iss]; ok {
		return a, nil
	}
	if err := v.ensure(ctx, v.bf); err != nil {
		return nil, err
	}
	if v.bf.accepts(iss) {
		return v.bf, nil
	}
	return nil, refuse(http.StatusUnauthorized, ReasonIssuer, fmt.Errorf("issuer %q", truncate(iss)))
}

func (a *authority) accepts(iss string) bool {
	if slices.Contains(a.fixedIssuers, iss) {
		return true
	}
	if a.fixedIssuers != nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return iss != "" && iss == a.issuer
}

// ensure makes sure a has keys no older than KeyRefreshInterval. A failed
// refresh keeps the keys it had (and is tried again after the minimum
// interval); with none at all the request cannot be checked.
func (v *Verifier) ensure(ctx context.Context, a *authority) error {
	a.mu.RLock()
	fresh := a.keys != nil && v.now().Sub(a.fetched) < KeyRefreshInterval
	have := a.keys != nil
	a.mu.RUnlock()
	if fresh {
		return nil
	}
	if err := v.refresh(ctx, a, false); err != nil && !have {
		return refuse(http.StatusServiceUnavailable, ReasonKeysUnavailable, err)
	}
	return nil
}

// key returns the key kid of a, fetching the keys again if it is unknown
// and the last fetch was long enough ago.
func (v *Verifier) key(ctx context.Context, a *authority, kid string) (jwk, error) {
	if err := v.ensure(ctx, a); err != nil {
		return jwk{}, err
	}
	if kid == "" {
		return jwk{}, refuse(http.StatusUnauthorized, ReasonUnknownKey, errors.New("no kid"))
	}
	a.mu.RLock()
	k, ok := a.keys[kid]
	a.mu.RUnlock()
	if ok {
		return k, nil
	}
	if err := v.refresh(ctx, a, true); err != nil {
		v.log.Warn("teams: the signing keys could not be fetched again", "err", err)
	}
	a.mu.RLock()
	k, ok = a.keys[kid]
	a.mu.RUnlock()
	if !ok {
		return jwk{}, refuse(http.StatusUnauthorized, ReasonUnknownKey, fmt.Errorf("kid %q", truncate(kid)))
	}
	return k, nil
}

// errTooSoon: a fetch for an unknown key came within the minimum interval.
var errTooSoon = errors.New("keys were fetched moments ago")

// refresh fetches a's metadata and keys, one caller at a time; nothing is
// fetched within the minimum interval of the last attempt.
func (v *Verifier) refresh(ctx context.Context, a *authority, unknownKey bool) error {
	a.refresh.Lock()
	defer a.refresh.Unlock()
	now := v.now()
	a.mu.RLock()
	fresh := a.keys != nil && now.Sub(a.fetched) < KeyRefreshInterval
	interval := v.minRefresh
	if a.keys == nil {
		// With no keys at all no request can be served: try again sooner.
		interval = min(interval, noKeysRetry)
	}
	recent := !a.lastAttempt.IsZero() && now.Sub(a.lastAttempt) < interval
	a.mu.RUnlock()
	if fresh && !unknownKey {
		return nil // another caller fetched them meanwhile
	}
	if recent {
		// A fetch was made or tried a moment ago: stale keys and unknown
		// key IDs wait for the interval.
		return errTooSoon
	}
	a.mu.Lock()
	a.lastAttempt = now
	a.mu.Unlock()

	// The fetch serves every waiting request: the one that started it
	// going away does not cut it short.
	issuer, keys, err := v.fetch(context.WithoutCancel(ctx), a.metadataURL)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.keys, a.issuer, a.fetched = keys, issuer, now
	a.mu.Unlock()
	v.log.Info("teams: signing keys fetched", "url", a.metadataURL, "keys", len(keys))
	return nil
}

// fetch reads an OpenID configuration and the key set it points to.
func (v *Verifier) fetch(ctx context.Context, metadataURL string) (string, map[string]jwk, error) {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, metadataURL, &meta); err != nil {
		return "", nil, fmt.Errorf("metadata: %w", err)
	}
	if meta.JWKSURI == "" {
		return "", nil, errors.New("metadata: no jwks_uri")
	}
	mu, err := url.Parse(metadataURL)
	if err != nil {
		return "", nil, err
	}
	ju, err := mu.Parse(meta.JWKSURI)
	if err != nil || (mu.Scheme == "https" && ju.Scheme != "https") {
		return "", nil, errors.New("metadata: jwks_uri is not an https URL")
	}
	var set struct {
		Keys []struct {
			Kty          string   `json:"kty"`
			Kid          string   `json:"kid"`
			N            string   `json:"n"`
			E            string   `json:"e"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	if err := v.getJSON(ctx, ju.String(), &set); err != nil {
		return "", nil, fmt.Errorf("keys: %w", err)
	}
	keys := map[string]jwk{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			v.log.Warn("teams: a signing key could not be read", "kid", truncate(k.Kid), "err", err)
			continue
		}
		keys[k.Kid] = jwk{key: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return "", nil, errors.New("keys: no RSA key in the set")
	}
	if meta.Issuer == "" {
		meta.Issuer = BotFrameworkIssuer
	}
	return meta.Issuer, keys, nil
}

func (v *Verifier) getJSON(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxMetadataBytes))
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxMetadataBytes)).Decode(into); err != nil {
		return errors.New("not JSON")
	}
	return nil
}

func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, errors.New("modulus is not base64url")
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad exponent")
	}
	exp := 0
	for _, b := range eb {
		exp = exp<<8 | int(b)
	}
	mod := new(big.Int).SetBytes(nb)
	if mod.BitLen() < 2048 || exp < 3 {
		return nil, errors.New("key too weak")
	}
	return &rsa.PublicKey{N: mod, E: exp}, nil
}

// truncate shortens a value from a token for a log line.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
