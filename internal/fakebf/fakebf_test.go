package fakebf_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakebf"
)

func token(t *testing.T, s *fakebf.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.Client().PostForm(s.TokenURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func goodForm(s *fakebf.Server) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {s.AppID()}, "client_secret": {s.Password()}, "scope": {fakebf.Scope}}
}

func TestTokenEndpointChecksTheClient(t *testing.T) {
	s := fakebf.New(fakebf.Config{})
	defer s.Close()
	status, body := token(t, s, goodForm(s))
	if status != 200 || body["access_token"] == "" || body["expires_in"] != float64(3600) || body["token_type"] != "Bearer" {
		t.Fatalf("good request: %d %v", status, body)
	}
	for field, want := range map[string]string{"client_secret": "invalid_client", "client_id": "invalid_client", "scope": "invalid_scope", "grant_type": "unsupported_grant_type"} {
		f := goodForm(s)
		f.Set(field, "wrong")
		if status, body := token(t, s, f); status < 400 || body["error"] != want {
			t.Errorf("wrong %s: %d %v, want %s", field, status, body, want)
		}
	}
	if s.Count("token") != 5 || s.Count("token_refused") != 4 {
		t.Errorf("counts %d %d", s.Count("token"), s.Count("token_refused"))
	}
}

func connector(t *testing.T, s *fakebf.Server, method, path, tok, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.ServiceURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConnectorNeedsAnIssuedToken(t *testing.T) {
	s := fakebf.New(fakebf.Config{})
	defer s.Close()
	u := fakebf.NewUser("A", "en-US", "")
	create := `{"bot":{"id":"` + s.BotID() + `"},"members":[{"id":"` + u.ID + `"}],"tenantId":"` + s.TenantID() + `"}`
	if status, _ := connector(t, s, "POST", "v3/conversations", "", create); status != 401 {
		t.Errorf("no token: %d", status)
	}
	if status, _ := connector(t, s, "POST", "v3/conversations", "made-up", create); status != 401 {
		t.Errorf("a token it never issued: %d", status)
	}
	_, body := token(t, s, goodForm(s))
	tok := body["access_token"].(string)
	status, out := connector(t, s, "POST", "v3/conversations", tok, create)
	if status != 201 || !strings.Contains(out, s.PersonalConversationID(u.ID)) {
		t.Errorf("create: %d %s", status, out)
	}
	// Creating it again finds the same chat, as Teams does.
	if _, again := connector(t, s, "POST", "v3/conversations", tok, create); again != out {
		t.Errorf("second create %s, first %s", again, out)
	}
	s.ExpireTokens()
	if status, _ := connector(t, s, "POST", "v3/conversations", tok, create); status != 401 {
		t.Errorf("expired token: %d", status)
	}
}

func TestFaultsHitTheirConversationAndRunOut(t *testing.T) {
	s := fakebf.New(fakebf.Config{Anonymous: true})
	defer s.Close()
	a, b := fakebf.NewUser("A", "en-US", ""), fakebf.NewUser("B", "en-US", "")
	for _, u := range []fakebf.User{a, b} {
		connector(t, s, "POST", "v3/conversations", "", `{"bot":{"id":"`+s.BotID()+`"},"members":[{"id":"`+u.ID+`"}],"tenantId":"`+s.TenantID()+`"}`)
	}
	ca, cb := s.PersonalConversationID(a.ID), s.PersonalConversationID(b.ID)
	s.Inject(fakebf.Fault{Conversation: ca, Status: 403, Code: "ConversationBlockedByUser", Times: 2})
	msg := `{"type":"message","text":"hi"}`
	for i := range 2 {
		status, body := connector(t, s, "POST", "v3/conversations/"+url.PathEscape(ca)+"/activities", "", msg)
		if status != 403 || !strings.Contains(body, "ConversationBlockedByUser") {
			t.Errorf("attempt %d: %d %s", i, status, body)
		}
	}
	if status, _ := connector(t, s, "POST", "v3/conversations/"+url.PathEscape(ca)+"/activities", "", msg); status != 201 {
		t.Errorf("after the fault ran out: %d", status)
	}
	if status, _ := connector(t, s, "POST", "v3/conversations/"+url.PathEscape(cb)+"/activities", "", msg); status != 201 {
		t.Errorf("another conversation: %d", status)
	}
	s.Inject(fakebf.Fault{Status: 429, RetryAfter: 3e9})
	req, _ := http.NewRequest("POST", s.ServiceURL()+"v3/conversations/"+url.PathEscape(cb)+"/activities", strings.NewReader(msg))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("global 429: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.ClearFaults()
	if got := len(s.Messages(ca)) + len(s.Messages(cb)); got != 2 {
		t.Errorf("%d messages recorded, want 2", got)
	}
	if status, body := connector(t, s, "POST", "v3/conversations/a%3A1unknown/activities", "", msg); status != 404 || !strings.Contains(body, "ConversationNotFound") {
		t.Errorf("unknown conversation: %d %s", status, body)
	}
}

func TestMetadataNamesTheKeysAndTheirEndorsements(t *testing.T) {
	s := fakebf.New(fakebf.Config{})
	defer s.Close()
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	resp, err := s.Client().Get(s.MetadataURL())
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta.Issuer != fakebf.Issuer || !strings.HasPrefix(meta.JWKSURI, "https://") {
		t.Fatalf("metadata %+v", meta)
	}
	var set struct {
		Keys []struct {
			Kid          string   `json:"kid"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	resp, err = s.Client().Get(meta.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 2 || len(set.Keys[0].Endorsements) == 0 || set.Keys[0].Endorsements[0] != "msteams" || set.Keys[1].Endorsements != nil {
		t.Errorf("key set %+v: want one key endorsed for msteams and one for nothing", set.Keys)
	}
	kid := s.RotateKey()
	resp, _ = s.Client().Get(meta.JWKSURI)
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 3 || set.Keys[2].Kid != kid {
		t.Errorf("after rotation: %+v", set.Keys)
	}
}

func TestAwaitWakesOnANewMessage(t *testing.T) {
	s := fakebf.New(fakebf.Config{Anonymous: true})
	defer s.Close()
	u := fakebf.NewUser("A", "en-US", "")
	connector(t, s, "POST", "v3/conversations", "", `{"bot":{"id":"`+s.BotID()+`"},"members":[{"id":"`+u.ID+`"}],"tenantId":"`+s.TenantID()+`"}`)
	conv := s.PersonalConversationID(u.ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := s.Await(ctx, conv, func(m []fakebf.Message) bool { return len(m) > 0 }); err == nil {
		t.Fatal("Await returned before any message")
	}
	done := make(chan []fakebf.Message)
	go func() {
		msgs, err := s.Await(context.Background(), conv, func(m []fakebf.Message) bool { return len(s.FromBot(m)) == 1 })
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	connector(t, s, "POST", "v3/conversations/"+url.PathEscape(conv)+"/activities", "", `{"type":"message","text":"hello"}`)
	if msgs := <-done; len(msgs) != 1 || msgs[0].Text != "hello" {
		t.Errorf("Await returned %+v", msgs)
	}
}
