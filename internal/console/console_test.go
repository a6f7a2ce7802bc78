package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// tr stands in for the playbooks' strings: the key and its arguments.
func tr(key string, args ...string) string {
	return "<" + key + " " + strings.Join(args, " ") + ">"
}

// formHandler opens a form for "plan" and records what is submitted.
type formHandler struct {
	mu        sync.Mutex
	submitted []map[string]string
}

func (h *formHandler) Handle(_ context.Context, req trustbot.Request) trustbot.Reply {
	switch req.Kind {
	case trustbot.Command:
		return trustbot.Reply{Modal: &trustbot.Modal{ID: "plan.form", Title: "Plan", Inputs: []trustbot.Input{
			{ID: "label", Label: "Label", Optional: true, MaxLength: 5},
			{ID: "stage", Label: "Stage", Options: []trustbot.Option{{Value: "a", Label: "A"}, {Value: "b", Label: "B"}}},
			{ID: "goal", Label: "Goal", MaxLength: 10},
			{ID: "horizon", Label: "Horizon", Initial: "6", Options: []trustbot.Option{{Value: "3", Label: "3"}, {Value: "6", Label: "6"}}},
		}}}
	case trustbot.Submit:
		h.mu.Lock()
		h.submitted = append(h.submitted, req.Inputs)
		h.mu.Unlock()
		return trustbot.Reply{Text: "saved"}
	}
	return trustbot.Reply{Text: "?"}
}

// TestFormAsksAgain: each answer is checked as it is typed; a bad one is
// asked again, and nothing typed before it is lost.
func TestFormAsksAgain(t *testing.T) {
	h := &formHandler{}
	var out strings.Builder
	in := strings.Join([]string{
		"plan",
		"toolong", "mine", // label: at most 5
		"abc", "9", "", "0", "２", // stage: not a number, out of range, empty, zero; then a full-width 2
		"", "a goal that is too long", "goal", // goal: required, at most 10
		"", // horizon: Enter keeps the preselected 6
	}, "\n") + "\n"
	c := &Console{Handler: h, User: trustbot.UserKey{Team: "T", User: "U"}, In: strings.NewReader(in), Out: &out, T: tr}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.submitted) != 1 {
		t.Fatalf("%d submissions, want 1:\n%s", len(h.submitted), out.String())
	}
	want := map[string]string{"label": "mine", "stage": "b", "goal": "goal", "horizon": "6"}
	if fmt.Sprint(h.submitted[0]) != fmt.Sprint(want) {
		t.Errorf("submitted %v, want %v", h.submitted[0], want)
	}
	got := out.String()
	for key, n := range map[string]int{"<console.too_long max 5 count 7>": 1, "<console.choose_number max 2>": 4, "<console.required >": 1, "<console.too_long max 10 count 23>": 1} {
		if c := strings.Count(got, key); c != n {
			t.Errorf("%s shown %d times, want %d:\n%s", key, c, n, got)
		}
	}
	// A choice with a preselected answer names it when asking again.
	h2 := &formHandler{}
	out.Reset()
	c = &Console{Handler: h2, User: trustbot.UserKey{Team: "T", User: "U"}, In: strings.NewReader("plan\n\n1\ng\nx\n1\n"), Out: &out, T: tr}
	c.Run(context.Background())
	if !strings.Contains(out.String(), "<console.choose_or_enter max 2 default 6>") || len(h2.submitted) != 1 || h2.submitted[0]["horizon"] != "3" {
		t.Errorf("preselected choice: %v\n%s", h2.submitted, out.String())
	}
}

// menuHandler answers every command with a reply holding a button and a
// menu of 25 options, and records the actions pressed.
type menuHandler struct {
	pressed []string
}

func (h *menuHandler) Handle(_ context.Context, req trustbot.Request) trustbot.Reply {
	if req.Kind == trustbot.Action {
		h.pressed = append(h.pressed, req.ActionID+"="+req.Value)
		return trustbot.Reply{Text: "pressed"}
	}
	menu := trustbot.Control{Kind: trustbot.Select, ID: "tip.topic", Label: "Choose a topic"}
	for i := range 25 {
		menu.Options = append(menu.Options, trustbot.Option{Label: fmt.Sprintf("Topic %02d", i+1), Value: fmt.Sprintf("t%d", i+1)})
	}
	return trustbot.Reply{Text: "tip", Blocks: []trustbot.Block{
		{Kind: trustbot.Section, Text: "a tip"},
		{Kind: trustbot.Actions, Controls: []trustbot.Control{{Kind: trustbot.Button, ID: "tip.next", Label: "Another tip"}, menu}},
	}}
}

// TestMenuOpensWhenPressed: a reply's menu is one numbered line, as Slack
// shows a closed menu; its options are listed when its number is typed.
// A number not listed is asked again, Enter closes the list without
// choosing, a listed number chooses, and a command typed instead closes
// the list and runs.
func TestMenuOpensWhenPressed(t *testing.T) {
	h := &menuHandler{}
	var out strings.Builder
	in := "tip\n2\n\n2\n26\n３\n2\ntip\n"
	c := &Console{Handler: h, User: trustbot.UserKey{Team: "T", User: "U"}, In: strings.NewReader(in), Out: &out, T: tr}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	reply, rest, _ := strings.Cut(got, "<console.menu label Choose a topic count 25>")
	if !strings.Contains(reply, "[1] Another tip") || !strings.HasSuffix(reply, "[2] ") {
		t.Fatalf("the menu is not the reply's second numbered line:\n%s", got)
	}
	if !strings.HasPrefix(rest, "\nChoose a topic:\n  [1] Topic 01\n") {
		t.Errorf("the menu's options are not listed when it is opened:\n%s", got)
	}
	if n := strings.Count(got, "[25] Topic 25"); n != 3 {
		t.Errorf("the options are listed %d times, want once per opening:\n%s", n, got)
	}
	for key, n := range map[string]int{"<console.menu_closed >": 2, "<console.choose_or_close max 25>": 1, "<console.menu label Choose a topic count 25>": 2} {
		if c := strings.Count(got, key); c != n {
			t.Errorf("%s shown %d times, want %d:\n%s", key, c, n, got)
		}
	}
	if fmt.Sprint(h.pressed) != "[tip.topic=t3]" {
		t.Errorf("pressed %v, want the menu's third option once", h.pressed)
	}
}

// TestCtrlCLeavesAtOnce: ending the context (Ctrl-C) ends Run while it
// waits for a line that never comes.
func TestCtrlCLeavesAtOnce(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	var out syncWriter
	c := &Console{Handler: &formHandler{}, User: trustbot.UserKey{Team: "T", User: "U"}, In: r, Out: &out, T: tr, Prompt: "trust> "}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "trust> "); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt shown: %q", out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still waits for a line after the context ended")
	}
	if !strings.Contains(out.String(), "<console.bye >") {
		t.Errorf("no goodbye: %q", out.String())
	}
}

// TestCtrlCInAMenu: Ctrl-C while a menu's list waits for a choice leaves
// at once, with the goodbye and no prompt before it.
func TestCtrlCInAMenu(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	var out syncWriter
	c := &Console{Handler: &menuHandler{}, User: trustbot.UserKey{Team: "T", User: "U"}, In: r, Out: &out, T: tr, Prompt: "trust> "}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	io.WriteString(w, "tip\n2\n")
	for deadline := time.Now().Add(time.Minute); !strings.HasSuffix(out.String(), "[25] Topic 25\n> "); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the menu's list is not waiting for a choice: %q", out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still waits for a choice after the context ended")
	}
	if _, after, _ := strings.Cut(out.String(), "[25] Topic 25\n> "); after != "\n<console.bye >\n" {
		t.Errorf("after Ctrl-C in a menu: %q, want only the goodbye", after)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestRender(t *testing.T) {
	for _, tc := range []struct{ in, plain, color string }{
		{"*bold* text", "bold text", "\x1b[1mbold\x1b[22m text"},
		{"*`/trust tip [topic]`*: one tip", "/trust tip [topic]: one tip", "\x1b[1m/trust tip [topic]\x1b[22m: one tip"},
		{"`▇▄·`  Did you listen?", "▇▄·  Did you listen?", "▇▄·  Did you listen?"},
		{"2*3*4 and a * b", "2*3*4 and a * b", "2*3*4 and a * b"},
		{"see <https://example.com/a|the guide> or <https://example.com>", "see the guide (https://example.com/a) or https://example.com", ""},
		{trustbot.MentionUser("U123") + " in " + trustbot.MentionChannel("C9") + ", <@U7>, <#C8|team>", "@U123 in #C9, @U7, #team", ""},
		{"{@U123} typed by a user", "{@U123} typed by a user", ""},
		{"「*大事*」です", "「大事」です", "「\x1b[1m大事\x1b[22m」です"},
		{"a &lt;b&gt; &amp; c", "a <b> & c", ""},
		// What a user typed is shown as typed; only the coach's markup is rendered.
		{"*Note*: " + trustbot.Typed("*not bold* `not code` &lt; <https://x.example|x>"), "Note: *not bold* `not code` &lt; <https://x.example|x>",
			"\x1b[1mNote\x1b[22m: *not bold* `not code` &lt; <https://x.example|x>"},
		{"「" + trustbot.Typed("*a*") + "」と *b*", "「*a*」と b", ""},
	} {
		plain := (&Console{}).render(tc.in)
		if plain != tc.plain {
			t.Errorf("render(%q) = %q, want %q", tc.in, plain, tc.plain)
		}
		if tc.color == "" {
			continue
		}
		if color := (&Console{Color: true}).render(tc.in); color != tc.color {
			t.Errorf("render(%q) in color = %q, want %q", tc.in, color, tc.color)
		}
	}
}

func TestParseAdvance(t *testing.T) {
	for in, want := range map[string]time.Duration{
		" 3d": 72 * time.Hour, " 12h": 12 * time.Hour, " 1w": 7 * 24 * time.Hour, " 30m": 30 * time.Minute, " 2日": 48 * time.Hour,
		" 60d": MaxAdvance, " 61d": -1, "": -1, " d": -1, " 3x": -1, " -3d": -1, " 0d": -1,
	} {
		d, ok := parseAdvance(in)
		if want < 0 && ok || want >= 0 && (!ok || d != want) {
			t.Errorf("parseAdvance(%q) = %v %v, want %v", in, d, ok, want)
		}
	}
}

type replyHandler trustbot.Reply

func (h replyHandler) Handle(context.Context, trustbot.Request) trustbot.Reply {
	return trustbot.Reply(h)
}

// TestTitleWithoutText: a section that is only a title (the heading of a
// list, as in history) is printed without an empty line under it.
func TestTitleWithoutText(t *testing.T) {
	h := replyHandler{Text: "history", Blocks: []trustbot.Block{
		{Kind: trustbot.Section, Title: "Journeys"},
		{Kind: trustbot.Section, Title: "Cooling off", Text: "0 of 7 sent"},
	}}
	var out strings.Builder
	c := &Console{Handler: h, User: trustbot.UserKey{Team: "T", User: "U"}, In: strings.NewReader("history\n"), Out: &out, T: tr}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := "<console.section_title title Journeys>\n<console.section_title title Cooling off>\n0 of 7 sent\n"; !strings.Contains(out.String(), want) {
		t.Errorf("got:\n%s\nwant it to hold:\n%s", out.String(), want)
	}
}

// TestPrintLeavesASharedReplyAsItWas: a shared reply's blocks (a tip, kept
// by the coach and handed to every caller) are read, never written:
// printing one that names someone in a title leaves the title marked as
// it was, for the next caller.
func TestPrintLeavesASharedReplyAsItWas(t *testing.T) {
	var out strings.Builder
	c := &Console{User: trustbot.UserKey{Team: "T", User: "U"}, Out: &out, T: tr}
	title := "Ask " + trustbot.MentionUser("U2")
	r := trustbot.Reply{Shared: true, Blocks: []trustbot.Block{{Kind: trustbot.Section, Title: title, Text: "text"}}}
	c.print(r, "")
	if r.Blocks[0].Title != title {
		t.Fatalf("printing changed the shared block's title to %q", r.Blocks[0].Title)
	}
	if !strings.Contains(out.String(), "@U2") {
		t.Fatalf("printed %q, want the title's mention as @U2", out.String())
	}
}
