// Package console runs the coach in a terminal, with no chat platform: it
// reads "/trust ..." lines, prints each reply as terminal text and numbers
// the buttons so that typing a number presses one. Its clock can be moved
// forward to see what comes later. It works interactively and with piped
// input.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Console is one terminal session for one user.
type Console struct {
	Handler trustbot.Handler
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
	// Advance, when set, moves the console's clock forward by d, delivering
	// what falls due meanwhile, and returns the new time: "advance 3d".
	Advance func(ctx context.Context, d time.Duration) time.Time
	// Channel is the team channel commands are typed in, as in Slack: a
	// channel's tip of the week can be tried there.
	Channel string
	// Color shows *bold* with ANSI codes: set it when Out is a terminal.
	Color bool
	// Zone is the user's time zone, for the times the console shows.
	Zone *time.Location
	// ExportDir is where "export" writes when no file is named
	// (DefaultExportDir), and Home what a leading "~" in a file name
	// stands for.
	ExportDir, Home string

	mu       sync.Mutex // output and controls: DMs arrive from the dispatcher
	controls []choice   // what each number presses, from the last reply
	lines    chan string
	readErr  error // set by read before it closes lines
	eof      bool  // lines was closed
}

// choice is what a number presses: a button's ID and value, or a menu,
// which opens its list of options.
type choice struct {
	id, value string
	menu      *trustbot.Control
}

// MaxLine is the longest input line read, in bytes; longer lines are cut
// by the coach's own limit after this.
const MaxLine = 1 << 20

// Run reads lines until EOF, "exit" or ctx's end (Ctrl-C), which leaves
// at once, even while a line is being typed.
func (c *Console) Run(ctx context.Context) error {
	c.lines = make(chan string)
	go c.read()
	next := "" // a line typed while a menu was open, to run as typed
	for {
		line, ok := next, true
		if next == "" {
			// No prompt once Ctrl-C or the end of input closed a menu or a
			// form: only the goodbye follows.
			if c.Prompt != "" && ctx.Err() == nil && !c.eof {
				c.mu.Lock()
				fmt.Fprint(c.Out, c.Prompt)
				c.mu.Unlock()
			}
			line, ok = c.readLine(ctx)
		}
		next = ""
		if !ok {
			if c.eof && c.readErr != nil {
				return fmt.Errorf("console: read: %w", c.readErr)
			}
			if c.Prompt != "" {
				c.say("") // off the prompt's line
			}
			c.say(c.T("console.bye"))
			return nil
		}
		line = strings.TrimSpace(line)
		switch line {
		case "":
			continue
		case "exit", "quit", "/exit", "/quit":
			c.say(c.T("console.bye"))
			return nil
		}
		if rest, ok := strings.CutPrefix(line, "advance"); ok && c.Advance != nil && (rest == "" || rest[0] == ' ') {
			d, ok := parseAdvance(rest)
			if !ok {
				c.say(c.T("console.advance_usage"))
				continue
			}
			now := c.Advance(ctx, d)
			c.say(c.T("console.advanced", "time", c.clock(now), "zone", c.zone().String()))
			continue
		}
		req, menu, ok := c.request(line)
		if !ok {
			c.say(c.T("console.no_such_button", "number", line))
			continue
		}
		if menu != nil {
			// Its options are listed only now, as Slack opens a menu's
			// list when it is clicked.
			if req, next, ok = c.pick(ctx, *menu); !ok {
				continue
			}
		}
		reply := c.Handler.Handle(ctx, req)
		if reply.Modal != nil {
			var ok bool
			if reply, ok = c.form(ctx, reply.Modal); !ok {
				continue
			}
		}
		c.print(reply, "")
		if reply.File != nil {
			// After the reply that describes it, as Slack shows a file
			// under its message.
			c.save(reply.File)
		}
		if c.After != nil {
			c.After(ctx)
		}
	}
}

// Welcome prints the first screen: who you are, the other language's
// switch and, with a clock, how to move it.
func (c *Console) Welcome(now time.Time) {
	c.say(c.T("console.welcome", "user", c.User.User))
	c.say(c.T("console.other_lang"))
	if c.Advance != nil {
		c.say(c.T("console.clock", "time", c.clock(now), "zone", c.zone().String(), "channel", c.Channel))
	}
}

func (c *Console) zone() *time.Location {
	if c.Zone == nil {
		return time.Local
	}
	return c.Zone
}

// clock shows an instant in the user's zone, with the day's name, as the
// user's language writes it: "2026-12-01 (Tuesday) 09:00",
// "2026-12-01（火曜日）09:00".
func (c *Console) clock(t time.Time) string {
	t = t.In(c.zone())
	return c.T("console.time", "date", t.Format("2006-01-02"), "day", c.T("day."+strconv.Itoa(int(t.Weekday()))), "time", t.Format("15:04"))
}

// say prints one line.
func (c *Console) say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.Out, s)
}

// read feeds input lines to Run; it ends at EOF.
func (c *Console) read() {
	defer close(c.lines)
	sc := bufio.NewScanner(c.In)
	sc.Buffer(make([]byte, 64*1024), MaxLine)
	for sc.Scan() {
		c.lines <- sc.Text()
	}
	c.readErr = sc.Err()
}

// readLine waits for the next line; false at EOF or when ctx ends.
func (c *Console) readLine(ctx context.Context) (string, bool) {
	select {
	case <-ctx.Done():
		return "", false
	case line, ok := <-c.lines:
		c.eof = !ok // readErr is set before lines is closed
		return line, ok
	}
}

// parseAdvance reads " 3d", " 12h", " 1w", " 30m": how far to move the
// clock, at most maxAdvance.
func parseAdvance(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	units := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
		"分": time.Minute, "時間": time.Hour, "日": 24 * time.Hour, "週": 7 * 24 * time.Hour, "週間": 7 * 24 * time.Hour}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:i])
	unit, ok := units[strings.TrimSpace(s[i:])]
	if err != nil || !ok || n <= 0 {
		return 0, false
	}
	d := time.Duration(n) * unit
	return d, d <= MaxAdvance
}

// MaxAdvance is the furthest "advance" moves the clock at once.
const MaxAdvance = 60 * 24 * time.Hour

// form asks for each input of a modal on its own line, checking each
// answer as it is typed and asking again until it can be used, then
// submits them. It reports false when input ended first.
func (c *Console) form(ctx context.Context, m *trustbot.Modal) (trustbot.Reply, bool) {
	c.mu.Lock()
	fmt.Fprintf(c.Out, "\n== %s ==\n", m.Title)
	if m.Intro != "" {
		fmt.Fprintln(c.Out, c.render(m.Intro))
	}
	c.mu.Unlock()
	inputs := map[string]string{}
	for _, in := range m.Inputs {
		v, ok := c.ask(ctx, in)
		if !ok {
			return trustbot.Reply{}, false
		}
		inputs[in.ID] = v
	}
	return c.Handler.Handle(ctx, trustbot.Request{Kind: trustbot.Submit, UserKey: c.User, Channel: c.Channel, ActionID: m.ID, Value: m.Metadata, Inputs: inputs}), true
}

// ask reads one input until the answer is valid: a listed number for a
// choice (Enter takes the preselected one, if any), text that is given
// when required and within the length limit.
func (c *Console) ask(ctx context.Context, in trustbot.Input) (string, bool) {
	c.mu.Lock()
	if len(in.Options) > 0 {
		fmt.Fprintf(c.Out, "%s:\n", in.Label)
		for i, o := range in.Options {
			mark := ""
			if o.Value == in.Initial {
				mark = " *"
			}
			fmt.Fprintf(c.Out, "  [%d] %s%s\n", i+1, o.Label, mark)
		}
	}
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(in.Options) > 0 {
			fmt.Fprint(c.Out, "> ")
		} else {
			fmt.Fprint(c.Out, in.Label)
			if in.Placeholder != "" {
				fmt.Fprintf(c.Out, " (%s)", in.Placeholder)
			}
			fmt.Fprint(c.Out, ": ")
		}
		c.mu.Unlock()
		line, ok := c.readLine(ctx)
		if !ok {
			return "", false
		}
		if c.Prompt == "" {
			c.say(line) // piped: show what was answered
		}
		line = strings.TrimSpace(line)
		if len(in.Options) > 0 {
			if n, err := strconv.Atoi(toASCIIDigits(line)); err == nil && n >= 1 && n <= len(in.Options) {
				return in.Options[n-1].Value, true
			}
			if line == "" && in.Initial != "" {
				return in.Initial, true
			}
			def := ""
			for _, o := range in.Options {
				if o.Value == in.Initial {
					def = o.Label
				}
			}
			if def != "" {
				c.say(c.T("console.choose_or_enter", "max", strconv.Itoa(len(in.Options)), "default", def))
			} else {
				c.say(c.T("console.choose_number", "max", strconv.Itoa(len(in.Options))))
			}
			continue
		}
		if line == "" && in.Initial != "" {
			return in.Initial, true
		}
		if line == "" && !in.Optional {
			c.say(c.T("console.required"))
			continue
		}
		if n := utf8.RuneCountInString(line); in.MaxLength > 0 && n > in.MaxLength {
			c.say(c.T("console.too_long", "max", strconv.Itoa(in.MaxLength), "count", strconv.Itoa(n)))
			continue
		}
		return line, true
	}
}

// pick lists a menu's options and reads which one is chosen, asking again
// when a number is not listed. Enter alone closes the list, as a click
// beside an open menu does in Slack, and so does anything else typed,
// which is returned to be run as typed.
func (c *Console) pick(ctx context.Context, menu trustbot.Control) (req trustbot.Request, typed string, ok bool) {
	c.mu.Lock()
	fmt.Fprintf(c.Out, "%s:\n", plain(menu.Label))
	for j, o := range menu.Options {
		mark := ""
		if o.Value == menu.Initial {
			mark = " *"
		}
		fmt.Fprintf(c.Out, "  [%d] %s%s\n", j+1, plain(o.Label), mark)
	}
	c.mu.Unlock()
	for {
		c.mu.Lock()
		fmt.Fprint(c.Out, "> ")
		c.mu.Unlock()
		line, ok := c.readLine(ctx)
		if !ok {
			return trustbot.Request{}, "", false
		}
		if c.Prompt == "" {
			c.say(line) // piped: show what was answered
		}
		line = strings.TrimSpace(line)
		k, err := strconv.Atoi(toASCIIDigits(line))
		switch {
		case line == "":
			c.say(c.T("console.menu_closed"))
			return trustbot.Request{}, "", false
		case err != nil:
			c.say(c.T("console.menu_closed"))
			return trustbot.Request{}, line, false
		case k >= 1 && k <= len(menu.Options):
			return trustbot.Request{Kind: trustbot.Action, UserKey: c.User, Channel: c.Channel, ActionID: menu.ID, Value: menu.Options[k-1].Value}, "", true
		}
		c.say(c.T("console.choose_or_close", "max", strconv.Itoa(len(menu.Options))))
	}
}

// toASCIIDigits turns full-width digits (１２) into ASCII ones.
func toASCIIDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}

// request turns a typed line into a request: a number presses a button of
// the last reply (or names a menu, to be opened), anything else is a
// command with or without "/trust".
func (c *Console) request(line string) (trustbot.Request, *trustbot.Control, bool) {
	if n, err := strconv.Atoi(toASCIIDigits(line)); err == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if n < 1 || n > len(c.controls) {
			return trustbot.Request{}, nil, false
		}
		ch := c.controls[n-1]
		if ch.menu != nil {
			return trustbot.Request{}, ch.menu, true
		}
		return trustbot.Request{Kind: trustbot.Action, UserKey: c.User, Channel: c.Channel, ActionID: ch.id, Value: ch.value}, nil, true
	}
	text := line
	if rest, ok := strings.CutPrefix(line, "/trust"); ok && (rest == "" || rest[0] == ' ' || strings.HasPrefix(rest, "\u3000")) {
		text = rest
	}
	return trustbot.Request{Kind: trustbot.Command, UserKey: c.User, Channel: c.Channel, Text: text}, nil, true
}

// plain renders a text for the terminal as it is, with the coach's marked
// mentions as @U123 and #C123: nothing a user typed is interpreted.
func plain(s string) string {
	var b strings.Builder
	trustbot.Mentions(s, func(text string, mention bool, sigil byte, id string) {
		if mention {
			b.WriteString(string(sigil) + id)
			return
		}
		b.WriteString(text)
	})
	return b.String()
}

// print writes a reply as text, under a heading when set, and remembers
// its numbered controls.
func (c *Console) print(r trustbot.Reply, heading string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A reply without buttons leaves the last ones pressable, as they stay
	// on screen in Slack.
	for _, blk := range r.Blocks {
		if blk.Kind == trustbot.Actions && len(blk.Controls) > 0 {
			c.controls = c.controls[:0]
			break
		}
	}
	var b strings.Builder
	b.WriteString("\n")
	if heading != "" {
		fmt.Fprintf(&b, "%s\n", heading)
	}
	for _, blk := range r.Blocks {
		// blk is a copy: a shared reply's blocks are never written to.
		blk.Title = plain(blk.Title)
		text := c.render(blk.Text)
		switch blk.Kind {
		case trustbot.Header:
			fmt.Fprintf(&b, "== %s ==\n", c.bold(plain(blk.Text)))
		case trustbot.Section:
			if blk.Title != "" {
				fmt.Fprintf(&b, "%s\n", c.T("console.section_title", "title", c.bold(blk.Title)))
			}
			if text != "" {
				fmt.Fprintf(&b, "%s\n", text)
			}
		case trustbot.Quote:
			if blk.Title != "" {
				fmt.Fprintf(&b, "  %s\n", c.T("console.quote_title", "title", blk.Title))
			}
			for line := range strings.SplitSeq(text, "\n") {
				fmt.Fprintf(&b, "  > %s\n", line)
			}
		case trustbot.Context:
			fmt.Fprintf(&b, "  · %s\n", text)
		case trustbot.Divider:
			b.WriteString("  ----\n")
		case trustbot.Actions:
			for _, ctl := range blk.Controls {
				switch ctl.Kind {
				case trustbot.Button:
					if ctl.URL != "" {
						fmt.Fprintf(&b, "  %s: %s\n", ctl.Label, ctl.URL)
						continue
					}
					c.controls = append(c.controls, choice{id: ctl.ID, value: ctl.Value})
					fmt.Fprintf(&b, "  [%d] %s\n", len(c.controls), plain(ctl.Label))
				case trustbot.Select:
					// One line, as Slack shows a closed menu: its
					// placeholder, or the option chosen.
					menu := ctl
					c.controls = append(c.controls, choice{menu: &menu})
					shown := plain(ctl.Label)
					for _, o := range ctl.Options {
						if o.Value == ctl.Initial {
							shown = plain(o.Label)
						}
					}
					fmt.Fprintf(&b, "  [%d] %s\n", len(c.controls), c.T("console.menu", "label", shown, "count", strconv.Itoa(len(ctl.Options))))
				}
			}
		}
	}
	if len(r.Blocks) == 0 {
		fmt.Fprintf(&b, "%s\n", c.render(r.Text))
	}
	io.WriteString(c.Out, b.String())
}

// ANSI codes for bold, used only when Color is set.
const (
	boldOn  = "\x1b[1m"
	boldOff = "\x1b[22m"
)

func (c *Console) bold(s string) string {
	if !c.Color || s == "" {
		return s
	}
	return boldOn + s + boldOff
}

var (
	// link is Slack's <url|label>, <url>, <@U1>, <#C1|name> and <!here>.
	link = regexp.MustCompile(`<([^<>|\s]+)(?:\|([^<>]*))?>`)
	// code is `text` on one line.
	code = regexp.MustCompile("`([^`\n]+)`")
	// strong is *text*: the stars touch the text, and stand at word
	// boundaries (so 2*3*4 stays as it is).
	strong = regexp.MustCompile(`(^|[\s(「（、。,.:;!?])\*([^*\s](?:[^*\n]*[^*\s])?)\*`)
)

// render turns the coach's Slack mrkdwn into terminal text: *bold* in bold
// (plain without Color), `code` and sparklines without their backticks,
// links as "label (url)", the coach's mentions as @U123 and #C123. What a
// user typed (trustbot.Typed) is shown as typed.
func (c *Console) render(s string) string {
	var b strings.Builder
	trustbot.TypedPieces(s, func(text string, typed bool) {
		if typed {
			b.WriteString(plain(text))
			return
		}
		b.WriteString(c.markup(text))
	})
	return b.String()
}

func (c *Console) markup(s string) string {
	s = plain(s)
	s = link.ReplaceAllStringFunc(s, func(m string) string {
		p := link.FindStringSubmatch(m)
		target, label := p[1], p[2]
		switch {
		case strings.HasPrefix(target, "@") || strings.HasPrefix(target, "!"):
			return "@" + strings.TrimLeft(target, "@!")
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return target
		case label != "" && label != target:
			return label + " (" + target + ")"
		}
		return target
	})
	s = strong.ReplaceAllStringFunc(s, func(m string) string {
		p := strong.FindStringSubmatch(m)
		return p[1] + c.bold(p[2])
	})
	s = code.ReplaceAllString(s, "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
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

// Messenger delivers the coach's direct messages, and its posts to the
// console's channel, into the console, so that check-ins, follow-ups and
// a tip of the week can be tried without Slack.
type Messenger struct {
	Console *Console
	// Now is the console's clock, shown with each message; default
	// time.Now.
	Now func() time.Time

	mu   sync.Mutex
	sent map[string]trustbot.Posted // delivery ID → where it went
	n    int
}

var _ trustbot.Messenger = (*Messenger)(nil)

// PostDM prints the message as a DM, or as a post when it goes to a
// channel, with its buttons numbered.
func (m *Messenger) PostDM(_ context.Context, to trustbot.UserKey, r trustbot.Reply, deliveryID string) (trustbot.Posted, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	m.n++
	p := trustbot.Posted{Channel: "D" + to.User, TS: strconv.FormatInt(now.Unix(), 10) + "." + strconv.Itoa(m.n)}
	if to.User == m.Console.Channel {
		p.Channel = to.User
	}
	if m.sent == nil {
		m.sent = map[string]trustbot.Posted{}
	}
	m.sent[deliveryID] = p
	m.mu.Unlock()
	heading := m.Console.T("console.dm", "time", m.Console.clock(now))
	if to.User == m.Console.Channel {
		heading = m.Console.T("console.channel_post", "channel", to.User, "time", m.Console.clock(now))
	}
	m.Console.print(r, heading)
	return p, nil
}

// FindDMs reports which of the deliveries this console session printed.
func (m *Messenger) FindDMs(_ context.Context, _ trustbot.UserKey, deliveryIDs []string, _ time.Time) (map[string]trustbot.Posted, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := map[string]trustbot.Posted{}
	for _, id := range deliveryIDs {
		if p, ok := m.sent[id]; ok {
			found[id] = p
		}
	}
	return found, true, nil
}
