package fakeslack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

// app is a stand-in for an app in HTTP mode: it checks each request with
// slack-go's verifier (an implementation apart from the fake's signer) and
// records it.
type app struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	answer   func(w http.ResponseWriter, n int)
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sv, err := slack.NewSecretsVerifier(r.Header, SigningSecret)
	if err == nil {
		sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	a.mu.Lock()
	a.requests = append(a.requests, r)
	a.bodies = append(a.bodies, body)
	n := len(a.requests)
	a.mu.Unlock()
	a.answer(w, n)
}

func TestHTTPModeSignsRetriesAndShowsAnswers(t *testing.T) {
	s := newServer(t)
	a := &app{answer: func(w http.ResponseWriter, n int) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError) // the first attempt and the first retry fail
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"response_type":"ephemeral","text":"hi"}`))
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	s.SetRequestURLs(srv.URL+"/events", srv.URL+"/interactive", srv.URL+"/commands")

	ds, err := s.PostEvent(map[string]string{"type": "app_home_opened", "user": DefaultUserID, "tab": "home"}, "EvX")
	if err != nil || len(ds) != 3 || !ds[2].OK() || ds[0].OK() {
		t.Fatalf("deliveries %+v (%v): want two failures then an ack", ds, err)
	}
	for i, r := range a.requests {
		if r.URL.Path != "/events" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("attempt %d: %s %s", i, r.URL.Path, r.Header.Get("Content-Type"))
		}
		want := ""
		if i > 0 {
			want = strconv.Itoa(i)
		}
		if got := r.Header.Get("X-Slack-Retry-Num"); got != want || ds[i].RetryNum != i {
			t.Errorf("attempt %d: X-Slack-Retry-Num %q", i, got)
		}
		if i > 0 && r.Header.Get("X-Slack-Retry-Reason") != "http_error" {
			t.Errorf("attempt %d: reason %q", i, r.Header.Get("X-Slack-Retry-Reason"))
		}
		var cb struct {
			Type    string `json:"type"`
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(a.bodies[i], &cb); err != nil || cb.Type != "event_callback" || cb.EventID != "EvX" {
			t.Errorf("attempt %d: body %s", i, a.bodies[i])
		}
	}

	// A slash command goes as Slack's form; its answer is shown.
	url := s.NewResponseURL()
	d, err := s.PostSlashCommand(SlashCommand{Text: "tip 冷却", ResponseURL: url})
	if err != nil || !d.OK() {
		t.Fatalf("slash command: %+v (%v)", d, err)
	}
	a.mu.Lock()
	sc, err := slack.SlashCommandParse(a.requests[3])
	a.mu.Unlock()
	if err != nil || sc.Text != "tip 冷却" || sc.TeamID != TeamID || sc.UserID != DefaultUserID || sc.Command != "/trust" || sc.ResponseURL != url || sc.TriggerID == "" {
		t.Fatalf("form read by slack-go: %+v (%v)", sc, err)
	}
	if got := s.Answers(url); len(got) != 1 || got[0].Via != ViaAck || string(got[0].Body) != `{"response_type":"ephemeral","text":"hi"}` {
		t.Fatalf("answers %+v", got)
	}

	// An interaction goes as a form with its JSON in "payload".
	if d, err := s.PostInteractive(map[string]any{"type": "block_actions", "user": map[string]string{"id": DefaultUserID}, "actions": []any{}}); err != nil || !d.OK() {
		t.Fatalf("interaction: %+v (%v)", d, err)
	}
	a.mu.Lock()
	ic, err := slack.InteractionCallbackParse(a.requests[4])
	a.mu.Unlock()
	if err != nil || ic.Type != slack.InteractionTypeBlockActions || ic.User.ID != DefaultUserID || ic.Team.ID != TeamID || ic.TriggerID == "" {
		t.Fatalf("payload read by slack-go: %+v (%v)", ic, err)
	}

	// Signed with another secret, the app refuses it.
	s.SetSigningSecret("not-the-app's")
	if d, _, err := s.PostURLVerification(); err != nil || d.Status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d (%v)", d.Status, err)
	}
}
