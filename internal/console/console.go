// Package console runs the coach in a terminal, with no chat platform: it
// reads "/trust ..." lines, prints each reply as plain text and numbers the
// buttons so that typing a number presses one. It works interactively and
// with piped input.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Handler answers requests: the coach.
type Handler interface {
	Handle(ctx context.Context, req trustbot.Request) trustbot.Reply
}

// Console is one terminal session for one user.
type Console struct {
	Handler Handler
	User    trustbot.UserKey
	In      io.Reader
	Out     io.Writer
	// Prompt is printed before each line is read; empty for piped input.
	Prompt string
	// T looks up interface strings in the user's language (welcome, bye,
	// "no such button").
	T func(key string, args ...string) string
	// After, when set, runs after each request is answered: the console
	// uses it to deliver any DM that became due (a check-in asked for now).
	After func(ctx context.Context)

	mu       sync.Mutex // output and controls: DMs arrive from the dispatcher
	controls []choice   // what each number presses, from the last reply
	sc       *bufio.Scanner
}

type choice struct {
	id, value string
}

// MaxLine is the longest input line read, in bytes; longer lines are cut
// by the coach's own limit after this.
const MaxLine = 1 << 20

// Run reads lines until EOF, "exit" or ctx's end.
func (c *Console) Run(ctx context.Context) error {
	fmt.Fprintln(c.Out, c.T("console.welcome", "user", c.User.User))
	sc := bufio.NewScanner(c.In)
	sc.Buffer(make([]byte, 64*1024), MaxLine)
	c.sc = sc
	for {
		if c.Prompt != "" {
			fmt.Fprint(c.Out, c.Prompt)
		}
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return fmt.Errorf("console: read: %w", err)
			}
			fmt.Fprintln(c.Out, c.T("console.bye"))
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
			continue
		case "exit", "quit", "/exit", "/quit":
			fmt.Fprintln(c.Out, c.T("console.bye"))
			return nil
		}
		req, ok := c.request(line)
		if !ok {
			c.mu.Lock()
			fmt.Fprintln(c.Out, c.T("console.no_such_button", "number", line))
			c.mu.Unlock()
			continue
		}
		reply := c.Handler.Handle(ctx, req)
		if reply.Modal != nil {
			reply = c.form(ctx, reply.Modal)
		}
		if reply.File != nil {
			c.save(reply.File)
		}
		c.print(reply, "")
		if c.After != nil {
			c.After(ctx)
		}
	}
}

// save writes a file for the user into the working directory, readable
// only by them.
func (c *Console) save(f *trustbot.File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := filepath.Base(f.Name)
	if err := os.WriteFile(name, f.Data, 0o600); err != nil {
		fmt.Fprintf(c.Out, "%s: %v\n", name, err)
		return
	}
	fmt.Fprintln(c.Out, c.T("console.saved", "file", name))
}

// form asks for each input of a modal on its own line and submits them.
func (c *Console) form(ctx context.Context, m *trustbot.Modal) trustbot.Reply {
	c.mu.Lock()
	fmt.Fprintf(c.Out, "\n== %s ==\n", m.Title)
	if m.Intro != "" {
		fmt.Fprintln(c.Out, m.Intro)
	}
	c.mu.Unlock()
	inputs := map[string]string{}
	for _, in := range m.Inputs {
		if len(in.Options) > 0 {
			c.mu.Lock()
			fmt.Fprintf(c.Out, "%s:\n", in.Label)
			for i, o := range in.Options {
				mark := ""
				if o.Value == in.Initial {
					mark = " *"
				}
				fmt.Fprintf(c.Out, "  [%d] %s%s\n", i+1, o.Label, mark)
			}
			fmt.Fprint(c.Out, "> ")
			c.mu.Unlock()
			if !c.sc.Scan() {
				break
			}
			inputs[in.ID] = in.Initial
			if n, err := strconv.Atoi(strings.TrimSpace(c.sc.Text())); err == nil && n >= 1 && n <= len(in.Options) {
				inputs[in.ID] = in.Options[n-1].Value
			}
			continue
		}
		c.mu.Lock()
		fmt.Fprintf(c.Out, "%s", in.Label)
		if in.Placeholder != "" {
			fmt.Fprintf(c.Out, " (%s)", in.Placeholder)
		}
		fmt.Fprint(c.Out, ": ")
		c.mu.Unlock()
		if !c.sc.Scan() {
			break
		}
		inputs[in.ID] = strings.TrimSpace(c.sc.Text())
	}
	return c.Handler.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: c.User, ActionID: m.ID, Value: m.Metadata, Inputs: inputs})
}

// request turns a typed line into a request: a number presses a button of
// the last reply, anything else is a command with or without "/trust".
func (c *Console) request(line string) (trustbot.Request, bool) {
	if n, err := strconv.Atoi(line); err == nil {
		if n < 1 || n > len(c.controls) {
			return trustbot.Request{}, false
		}
		ch := c.controls[n-1]
		return trustbot.Request{Kind: trustbot.Action, UserKey: c.User, ActionID: ch.id, Value: ch.value}, true
	}
	text := line
	if rest, ok := strings.CutPrefix(line, "/trust"); ok && (rest == "" || rest[0] == ' ' || strings.HasPrefix(rest, "\u3000")) {
		text = rest
	}
	return trustbot.Request{Kind: trustbot.Command, UserKey: c.User, Text: text}, true
}

// mention turns the coach's {@U123} and {#C123} tokens into @U123, #C123.
var mention = regexp.MustCompile(`\{([@#])([A-Z0-9]+)\}`)

// print writes a reply as text, under a heading when set, and remembers
// its numbered controls.
func (c *Console) print(r trustbot.Reply, heading string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range r.Blocks {
		r.Blocks[i].Text = mention.ReplaceAllString(r.Blocks[i].Text, "$1$2")
	}
	c.controls = c.controls[:0]
	var b strings.Builder
	b.WriteString("\n")
	if heading != "" {
		fmt.Fprintf(&b, "%s\n", heading)
	}
	for _, blk := range r.Blocks {
		switch blk.Kind {
		case trustbot.Header:
			fmt.Fprintf(&b, "== %s ==\n", blk.Text)
		case trustbot.Section:
			if blk.Title != "" {
				fmt.Fprintf(&b, "【%s】\n", blk.Title)
			}
			fmt.Fprintf(&b, "%s\n", blk.Text)
		case trustbot.Quote:
			if blk.Title != "" {
				fmt.Fprintf(&b, "  (%s)\n", blk.Title)
			}
			for line := range strings.SplitSeq(blk.Text, "\n") {
				fmt.Fprintf(&b, "  > %s\n", line)
			}
		case trustbot.Context:
			fmt.Fprintf(&b, "  · %s\n", blk.Text)
		case trustbot.Divider:
			b.WriteString("  ----\n")
		case trustbot.Actions:
			for _, ctl := range blk.Controls {
				switch ctl.Kind {
				case trustbot.Button:
					c.controls = append(c.controls, choice{ctl.ID, ctl.Value})
					fmt.Fprintf(&b, "  [%d] %s\n", len(c.controls), ctl.Label)
				case trustbot.Select:
					fmt.Fprintf(&b, "  %s:\n", ctl.Label)
					for _, o := range ctl.Options {
						c.controls = append(c.controls, choice{ctl.ID, o.Value})
						mark := ""
						if o.Value == ctl.Initial {
							mark = " *"
						}
						fmt.Fprintf(&b, "    [%d] %s%s\n", len(c.controls), o.Label, mark)
					}
				}
			}
		}
	}
	if len(r.Blocks) == 0 {
		fmt.Fprintf(&b, "%s\n", r.Text)
	}
	io.WriteString(c.Out, b.String())
}

// Directory stands in for the chat platform's user directory: it reports
// the locale and time zone given on the command line.
type Directory struct {
	Locale string
	TZ     string
}

// Profile returns the configured locale and time zone for any user.
func (d Directory) Profile(_ context.Context, k trustbot.UserKey) (trustbot.Profile, error) {
	return trustbot.Profile{UserKey: k, Locale: d.Locale, TZ: d.TZ}, nil
}

// Messenger delivers the coach's direct messages into the console, so that
// check-ins can be tried without Slack.
type Messenger struct {
	Console *Console

	mu   sync.Mutex
	sent map[string]trustbot.Posted // delivery ID → where it went
	n    int
}

var _ trustbot.Messenger = (*Messenger)(nil)

// PostDM prints the message as a DM, with its buttons numbered.
func (m *Messenger) PostDM(_ context.Context, to trustbot.UserKey, r trustbot.Reply, deliveryID string) (trustbot.Posted, error) {
	m.mu.Lock()
	m.n++
	p := trustbot.Posted{Channel: "D" + to.User, TS: strconv.FormatInt(time.Now().Unix(), 10) + "." + strconv.Itoa(m.n)}
	if m.sent == nil {
		m.sent = map[string]trustbot.Posted{}
	}
	m.sent[deliveryID] = p
	m.mu.Unlock()
	m.Console.print(r, m.Console.T("console.dm"))
	return p, nil
}

// FindDM reports whether this console session printed the delivery.
func (m *Messenger) FindDM(_ context.Context, _ trustbot.UserKey, deliveryID string, _ time.Time) (trustbot.Posted, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.sent[deliveryID]
	return p, ok, nil
}
