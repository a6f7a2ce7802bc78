package teams

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// submitted is what Teams sends for an Action.Submit: its data, with the
// card's input values merged in at the top.
func submitted(t testing.TB, data any, inputs map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range inputs {
		m[k] = v
	}
	out, _ := json.Marshal(m)
	return out
}

// invoke wraps submitted data as a task/fetch or task/submit value.
func invoke(t testing.TB, data []byte) []byte {
	t.Helper()
	return []byte(`{"data":` + string(data) + `,"context":{"theme":"default"}}`)
}

// actions returns every Action.Submit of a card, in order.
func actions(c *Card) []Action {
	var out []Action
	var walk func([]Element)
	walk = func(es []Element) {
		for _, e := range es {
			out = append(out, e.Actions...)
			walk(e.Items)
		}
	}
	walk(c.Body)
	return append(out, c.Actions...)
}

func TestPressRoundTrip(t *testing.T) {
	r := trustbot.Reply{Text: "t"}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{
		{Kind: trustbot.Button, ID: "phrase.style", Label: "casual", Value: "decline:casual <@U1> \x1d@U2\x1f"},
		{Kind: trustbot.Select, ID: "tip.topic", Label: "Topic", Options: []trustbot.Option{
			{Label: "A", Value: "a"}, {Label: "B", Value: "b"}, {Label: "C", Value: "c"}, {Label: "D", Value: "d"}}},
		{Kind: trustbot.Select, ID: "lang.set", Label: "Language", Options: []trustbot.Option{{Label: "日本語", Value: "ja"}, {Label: "English", Value: "en"}}},
	}})
	c := Render(r, Options{})[0].Card()
	as := actions(c)
	if len(as) != 4 { // the button, the menu's button, one per language
		t.Fatalf("%d actions: %+v", len(as), as)
	}
	// The user picked "c" in the drop-down, then pressed each button.
	inputs := map[string]string{"menu0": "c"}
	want := []Press{
		{"phrase.style", "decline:casual <@U1> @U2"},
		{"tip.topic", "c"},
		{"lang.set", "ja"},
		{"lang.set", "en"},
	}
	var got []Press
	for _, a := range as {
		p, err := ParsePress(submitted(t, a.Data, inputs))
		if err != nil {
			t.Fatalf("%s: %v", a.Title, err)
		}
		got = append(got, p)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("press %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	req := got[1].Request(trustbot.Request{UserKey: trustbot.UserKey{Team: "T", User: "U"}, Channel: "c"})
	if req.Kind != trustbot.Action || req.ActionID != "tip.topic" || req.Value != "c" || req.User != "U" {
		t.Errorf("request %+v", req)
	}
	// A menu button pressed before anything was chosen: Teams sends no value.
	if _, err := ParsePress(submitted(t, as[1].Data, nil)); !errors.Is(err, ErrNotTrustbot) {
		t.Errorf("menu without a choice: %v", err)
	}
}

func noteForm() *trustbot.Modal {
	return &trustbot.Modal{ID: "checkin.note", Metadata: "d1", Title: "Note", Submit: "Save", Close: "Close", Intro: "Optional.",
		Inputs: []trustbot.Input{
			{ID: "note", Label: "A note", Initial: "before", Multiline: true, Optional: true, MaxLength: 1000},
			{ID: "stage", Label: "Stage", Options: []trustbot.Option{{Label: "One", Value: "one"}, {Label: "Two", Value: "two"}}},
			{ID: "long", Label: "Long", MaxLength: 99999},
		}}
}

func TestDialogRoundTrip(t *testing.T) {
	o := Options{Forms: []string{"checkin.note"}}
	// The button that opens the form asks Teams for a dialog.
	r := trustbot.Reply{Text: "t"}
	r.Add(trustbot.Block{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: "checkin.note", Label: "Note", Value: "d1"}}})
	a := actions(Render(r, o)[0].Card())[0]
	raw, _ := json.Marshal(a.Data)
	if !strings.Contains(string(raw), `"msteams":{"type":"task/fetch"}`) {
		t.Fatalf("a form's button does not open a dialog: %s", raw)
	}
	p, err := ParseTaskFetch(invoke(t, submitted(t, a.Data, nil)))
	if err != nil || p != (Press{"checkin.note", "d1"}) {
		t.Fatalf("task/fetch: %+v %v", p, err)
	}
	// The launcher does the same for a form that came as an answer.
	l := Launcher(trustbot.Reply{Text: "Add a note", Modal: noteForm()}, Press{"checkin.note", "d1"}, o)
	if p, err := ParseTaskFetch(invoke(t, submitted(t, actions(l.Card())[0].Data, nil))); err != nil || p != (Press{"checkin.note", "d1"}) {
		t.Fatalf("launcher: %+v %v", p, err)
	}

	res, ok := DialogFor(trustbot.Reply{Text: "Note", Modal: noteForm()}, nil, "Needed.", o)
	if !ok || res.Task.Type != "continue" {
		t.Fatalf("dialog: %+v", res)
	}
	info := res.Task.Value.(DialogInfo)
	c := info.Card.Content
	if info.Title != "Note" || c.Version != DialogCardVersion || len(c.Actions) != 1 {
		t.Fatalf("dialog %+v", info)
	}
	byID := map[string]Element{}
	for _, e := range c.Body {
		if e.ID != "" {
			byID[e.ID] = e
		}
	}
	if e := byID["in.note"]; e.Type != typeInputText || !e.IsMultiline || e.MaxLength != 1000 || e.IsRequired || e.Value != "before" {
		t.Errorf("note input %+v", e)
	}
	if e := byID["in.stage"]; e.Type != typeChoiceSet || !e.IsRequired || e.ErrorMessage != "Needed." || len(e.Choices) != 2 {
		t.Errorf("stage input %+v", e)
	}
	if e := byID["in.long"]; e.MaxLength != MaxInputLength {
		t.Errorf("long input %+v", e)
	}
	typed := map[string]string{"in.note": "今日は <b>よかった</b> \x1d@U9\x1f", "in.stage": "two", "in.long": ""}
	s, err := ParseTaskSubmit(invoke(t, submitted(t, c.Actions[0].Data, typed)))
	if err != nil {
		t.Fatal(err)
	}
	wantInputs := map[string]string{"note": "今日は <b>よかった</b> @U9", "stage": "two", "long": ""}
	if s.Form != "checkin.note" || s.Metadata != "d1" || !maps.Equal(s.Inputs, wantInputs) {
		t.Errorf("submission %+v", s)
	}
	req := s.Request(trustbot.Request{UserKey: trustbot.UserKey{Team: "T", User: "U"}})
	if req.Kind != trustbot.Submit || req.ActionID != "checkin.note" || req.Value != "d1" || req.Inputs["stage"] != "two" {
		t.Errorf("request %+v", req)
	}
}

// TestDialogKeepsValues: a form the coach sends back (its inputs refused)
// shows what to correct at the top and keeps everything the user typed.
func TestDialogKeepsValues(t *testing.T) {
	back := trustbot.Reply{Text: "Note", Modal: noteForm()}
	back.Add(trustbot.Block{Kind: trustbot.Section, Text: "Please choose a stage."})
	values := map[string]string{"note": "kept *as typed* " + strings.Repeat("長", 1200), "stage": "", "long": "x"}
	res, ok := DialogFor(back, values, "Needed.", Options{})
	if !ok {
		t.Fatal("no dialog")
	}
	c := res.Task.Value.(DialogInfo).Card.Content
	top := c.Body[0]
	if top.Type != typeContainer || top.Style != styleAttention || top.Items[0].Inlines[0].Text != "Please choose a stage." {
		t.Errorf("the problem is not at the top: %+v", top)
	}
	for _, e := range c.Body {
		if v, ok := values[strings.TrimPrefix(e.ID, inputPrefix)]; ok && e.Value != v {
			t.Errorf("%s shows %q, the user typed %q", e.ID, e.Value, v)
		}
		if e.Type == typeInputText && e.MaxLength < utf8.RuneCountInString(e.Value) {
			t.Errorf("%s: %d characters in an input of at most %d", e.ID, utf8.RuneCountInString(e.Value), e.MaxLength)
		}
	}
	// Without a message for required inputs, the label names the field.
	res, _ = DialogFor(back, values, "", Options{})
	for _, e := range res.Task.Value.(DialogInfo).Card.Content.Body {
		if e.IsRequired && e.ErrorMessage != e.Label {
			t.Errorf("%s: error message %q", e.ID, e.ErrorMessage)
		}
	}
	if _, ok := DialogFor(trustbot.Reply{Text: "saved"}, values, "", Options{}); ok {
		t.Error("a reply without a form gave a dialog")
	}
	if m := TaskMessage("gone \x1d@U1\x1f", Options{}); m.Task.Type != "message" || m.Task.Value != "gone U1" {
		t.Errorf("task message %+v", m)
	}
}

// badValues are values a trustbot card never sends.
var badValues = []string{
	``, `null`, `[]`, `"text"`, `{}`, `{"trustbot":null}`, `{"trustbot":"x"}`, `{"trustbot":{}}`,
	`{"trustbot":{"a":""}}`, `{"trustbot":{"a":"has space"}}`, `{"trustbot":{"a":"x\u0000"}}`,
	`{"trustbot":{"a":"` + strings.Repeat("a", 300) + `"}}`, `{"trustbot":{"a":"x","v":7}}`,
	`{"trustbot":{"a":"x","i":"menu0"}}`, `{"trustbot":{"a":"x","i":"menu0"},"menu0":5}`,
	`{"trustbot":{"a":"x","i":"trustbot"}}`, `{"trustbot":{"a":"x","i":"other"},"other":"v"}`,
	`{"msteams":{"type":"task/fetch"}}`, `{"trustbot":{"a":"x"`,
}

func TestMalformedData(t *testing.T) {
	for _, v := range badValues {
		if p, err := ParsePress([]byte(v)); !errors.Is(err, ErrNotTrustbot) {
			t.Errorf("press %s: %+v %v", v, p, err)
		}
		if p, err := ParseTaskFetch(invoke(t, []byte(v))); !errors.Is(err, ErrNotTrustbot) {
			t.Errorf("fetch %s: %+v %v", v, p, err)
		}
	}
	for _, v := range []string{
		`{"trustbot":{"a":"x"}}`, `{"trustbot":{"f":""}}`, `{"trustbot":{"f":"a b"}}`,
		`{"trustbot":{"f":"x"},"in.note":7}`, `{"trustbot":{"f":"x"},"in.":"v"}`,
		`{"trustbot":{"f":"x"},"in.note":"` + strings.Repeat("a", maxFieldBytes+1) + `"}`,
	} {
		if s, err := ParseTaskSubmit(invoke(t, []byte(v))); !errors.Is(err, ErrNotTrustbot) {
			t.Errorf("submit %s: %+v %v", v, s, err)
		}
	}
	for _, v := range []string{``, `{}`, `{"data":null}`, `[1]`, `{"data":` + strings.Repeat(" ", maxValueBytes) + `{}}`} {
		if _, err := ParseTaskSubmit([]byte(v)); !errors.Is(err, ErrNotTrustbot) {
			t.Errorf("invoke %q: %v", v[:min(len(v), 40)], err)
		}
	}
}

// FuzzParse: no value from Teams, however malformed, panics a parser, and
// what a parser accepts is routable and carries no mention marks.
func FuzzParse(f *testing.F) {
	for _, v := range badValues {
		f.Add([]byte(v))
	}
	f.Add([]byte(`{"trustbot":{"a":"tip.topic","i":"menu0"},"menu0":"cooling"}`))
	f.Add([]byte(`{"trustbot":{"f":"plan.new","m":"x"},"in.goal":"信頼\u001d@U1\u001f","in.stage":"a"}`))
	f.Add([]byte(`{"msteams":{"type":"task/fetch"},"trustbot":{"a":"checkin.note","v":"d1"}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		clean := func(s string) {
			if strings.ContainsAny(s, "\x1d\x1f") {
				t.Fatalf("a mention mark passed: %q", s)
			}
		}
		if p, err := ParsePress(v); err == nil {
			if !validID(p.ActionID) {
				t.Fatalf("press with ID %q", p.ActionID)
			}
			clean(p.Value)
		}
		wrapped := invoke(t, v)
		if p, err := ParseTaskFetch(wrapped); err == nil {
			clean(p.Value)
		}
		if s, err := ParseTaskSubmit(wrapped); err == nil {
			if !validID(s.Form) || s.Inputs == nil {
				t.Fatalf("submission %+v", s)
			}
			clean(s.Metadata)
			for k, x := range s.Inputs {
				clean(k)
				clean(x)
			}
		}
	})
}

func TestFetchAnswer(t *testing.T) {
	if res := FetchAnswer(trustbot.Reply{Text: "Note", Modal: noteForm()}, "Needed.", Options{}); res.Task.Type != "continue" {
		t.Errorf("a form: %+v", res)
	}
	res := FetchAnswer(trustbot.Reply{Text: "That action couldn't be used."}, "Needed.", Options{})
	if res.Task.Type != "message" || res.Task.Value != "That action couldn't be used." {
		t.Errorf("a refusal: %+v", res)
	}
}

// TestLauncherTitle: a form without a title still gets a button that says
// something.
func TestLauncherTitle(t *testing.T) {
	m := noteForm()
	m.Title = ""
	l := Launcher(trustbot.Reply{Text: "Add a note", Modal: m}, Press{"checkin.note", "d1"}, Options{})
	if got := actions(l.Card())[0].Title; got != "Save" {
		t.Errorf("launcher button %q", got)
	}
}
