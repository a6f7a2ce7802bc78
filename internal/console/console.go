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
	"strconv"
	"strings"

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

	controls []choice // what each number presses, from the last reply
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
			fmt.Fprintln(c.Out, c.T("console.no_such_button", "number", line))
			continue
		}
		reply := c.Handler.Handle(ctx, req)
		c.print(reply)
	}
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

// print writes a reply as text and remembers its numbered controls.
func (c *Console) print(r trustbot.Reply) {
	c.controls = c.controls[:0]
	var b strings.Builder
	b.WriteString("\n")
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
