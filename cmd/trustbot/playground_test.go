package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/fakebf"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// The Microsoft 365 Agents Playground drives the real binary in the Teams
// development mode. The Playground is Microsoft's pre-release test tool
// (npm @microsoft/m365agentsplayground, pinned in tools/playground); only
// make test-playground installs it and sets TRUSTBOT_PLAYGROUND=1.
//
// The test speaks to the Playground as its own web page does: it posts
// what the user types and presses to the Playground's conversation API,
// and reads what the conversation shows from the stream the page listens
// to, which carries every message the bot posted to (or updated in) the
// Playground's mock connector.
const playgroundSwitch = "TRUSTBOT_PLAYGROUND"

// playgroundDir holds the Playground's package.json and node_modules.
const playgroundDir = "../../tools/playground"

func TestPlayground(t *testing.T) {
	if os.Getenv(playgroundSwitch) != "1" {
		t.Skip("opt-in: make test-playground installs the Microsoft 365 Agents Playground and runs this test")
	}
	lib := mustLibrary(t)
	ja, en := trustbot.Japanese, trustbot.English
	bot := startDevBinary(t)
	pg := startPlayground(t, "http://"+bot.public+"/api/messages", bot.stderr)

	// Installing the app greets once. The Playground tells of it twice at
	// the same time, by an installationUpdate that carries the user's
	// locale (en-US) and a conversationUpdate that carries none: the
	// greeting is in the language of whichever trustbot takes first, the
	// user's or the installation's default (ja).
	greetings := []string{lib.T(en, "install.personal.msteams"), lib.T(ja, "install.personal.msteams")}
	greet := pg.install(t)
	if !isGreeting(greet, greetings) {
		t.Fatalf("the first message is not a greeting:\n%s", cardText(greet))
	}

	// The Playground's user writes in en-US.
	m := pg.say(t, "help")
	mustContain(t, m, lib.T(en, "help.title"))
	m = pg.say(t, "tip")
	mustContain(t, m, lib.T(en, "button.another_tip"))
	// Another tip replaces the card in place.
	next := pg.press(t, m, coach.ActTip, "")
	if next.ID != m.ID || cardText(next) == cardText(m) {
		t.Fatalf("the tip's button did not show another tip in place:\n%s", cardText(next))
	}
	actionData(t, next, coach.ActTip, "")
	m = pg.say(t, "check Can I have your number? Reply today please")
	mustContain(t, m, lib.T(en, "check.not_stored"), `"today"`)

	// A menu's choice comes with the press of the button beside it, as the
	// Playground's page merges a card's inputs into its data; a phrasing's
	// polite/casual switch then updates its card in place.
	m = pg.say(t, "phrase")
	menu := actionData(t, m, coach.ActPhrase, "")
	m = pg.press(t, m, coach.ActPhrase, "", map[string]any{jsonString(menu["trustbot"].(map[string]any)["i"]): "thanks"})
	sw := pg.press(t, m, coach.ActPhraseStyle, "thanks:")
	if sw.ID != m.ID || sw.Updates == 0 {
		t.Fatalf("the style switch did not update the card in place: %+v", sw)
	}

	// Japanese: chosen with lang, then the Japanese commands.
	m = pg.say(t, "lang ja")
	mustContain(t, m, lib.T(ja, "lang.saved", "setting", lib.T(ja, "lang.name.ja")))
	m = pg.say(t, "ヘルプ")
	mustContain(t, m, lib.T(ja, "help.title"))
	m = pg.say(t, "ヒント")
	mustContain(t, m, lib.T(ja, "button.another_tip"))
	m = pg.say(t, "チェック LINE教えてください。今日中に返事ください")
	mustContain(t, m, lib.T(ja, "check.not_stored"), "LINE")

	// The plan's button asks Teams for a dialog (task/fetch). The
	// Playground opens dialogs only for message extensions: it sends the
	// press as a plain message, and the answer is the card whose button
	// opens the dialog, offered again.
	m = pg.say(t, "プラン")
	data := actionData(t, m, coach.ActPlanStart, "")
	if ms, _ := data["msteams"].(map[string]any); ms["type"] != "task/fetch" {
		t.Fatalf("the plan button does not open a dialog: %v", data)
	}
	again := pg.press(t, m, coach.ActPlanStart, "")
	data = actionData(t, again, coach.ActPlanStart, "")
	if ms, _ := data["msteams"].(map[string]any); ms["type"] != "task/fetch" {
		t.Fatalf("a press the Playground sent as a message got no dialog button: %s", cardText(again))
	}

	// In a channel, trustbot answers when @mentioned: the answer goes to
	// the personal chat, and the post's thread only hears where it went.
	before := pg.shownCount()
	post := pg.mention(t, "weekly on")
	note := pg.awaitIn(t, post, "the note in the channel", func(ms []fakebf.Message) bool { return len(ms) > 0 })[0]
	mustContain(t, note, lib.T(ja, "teams.replied_in_chat"))
	m = pg.await(t, "the answer in the personal chat", func(ms []fakebf.Message) bool { return len(ms) > before })[before]
	mustContain(t, m, "月曜")

	// However often the installation was told of, it was greeted once.
	n := 0
	for _, m := range pg.await(t, "everything shown", func([]fakebf.Message) bool { return true }) {
		if isGreeting(m, greetings) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d greetings shown, want 1", n)
	}

	// Every message the bot posted reached the Playground's conversation:
	// none was refused by its connector, and the bot logged no failure.
	if s := bot.stderr.String(); strings.Contains(s, "not sent") || strings.Contains(s, "level=ERROR") {
		t.Fatalf("the bot failed to answer:\n%s", s)
	}
}

func isGreeting(m fakebf.Message, greetings []string) bool {
	text := cardText(m)
	for _, g := range greetings {
		if strings.Contains(text, g) {
			return true
		}
	}
	return false
}

// devBinary is the real trustbot, built from the tree, serving Teams in
// the development mode.
type devBinary struct {
	public string
	stderr *syncBuffer
}

// startDevBinary builds trustbot and runs "trustbot serve" with TEAMS_DEV=1
// on loopback addresses, until the test ends.
func startDevBinary(t *testing.T) devBinary {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "trustbot")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := devBinary{public: freeAddr(t), stderr: &syncBuffer{}}
	httpAddr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"TEAMS_DEV=1",
		"TRUSTBOT_PUBLIC_ADDR=" + b.public,
		"TRUSTBOT_HTTP_ADDR=" + httpAddr,
		"TRUSTBOT_DB=" + filepath.Join(dir, "trustbot.db"),
		"LOG_LEVEL=debug",
	}
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	stop := startProcess(t, cmd, "trustbot")
	waitFor(t, "trustbot's /readyz", stop, b.stderr, func() bool { return readyAsLogged(httpAddr, b.stderr) })
	return b
}

// startProcess starts cmd and ends it (SIGINT, then SIGKILL) when the test
// ends. The channel closes when the process exits.
func startProcess(t *testing.T, cmd *exec.Cmd, name string) <-chan struct{} {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	return exited
}

// waitFor checks cond often until it holds, failing the test when the
// process it waits on exits first or patience runs out.
func waitFor(t *testing.T, what string, exited <-chan struct{}, log fmt.Stringer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for wait := time.Millisecond; !cond(); wait = min(wait*2, 50*time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("gave up waiting for %s: the process exited\n%s", what, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, log)
		}
		time.Sleep(wait)
	}
}

// playground is a running Agents Playground and what its conversation
// shows.
type playground struct {
	base   string // http://127.0.0.1:port
	log    fmt.Stringer
	botLog fmt.Stringer
	cfg    struct {
		Bot          struct{ ID, Name string } `json:"bot"`
		CurrentUser  struct{ ID string }       `json:"currentUser"`
		PersonalChat struct{ ID string }       `json:"personalChat"`
		Teams        []struct {
			Channels []struct{ ID string } `json:"channels"`
		} `json:"teams"`
	}

	mu      sync.Mutex
	shown   map[string][]fakebf.Message // the bot's messages, by conversation, as shown
	changed chan struct{}               // closed and replaced when shown changes
	readErr error
}

// playgroundBin is the Playground's command line script.
func playgroundBin(t *testing.T) string {
	t.Helper()
	cli, err := filepath.Abs(filepath.Join(playgroundDir, "node_modules", "@microsoft", "m365agentsplayground", "cli.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the Playground is not installed (%v): run make test-playground, which runs npm ci in tools/playground", err)
	}
	return cli
}

// startPlayground runs the Playground on a loopback port, its mock
// connector as the service URL, sending to endpoint, and subscribes to
// its conversation stream.
func startPlayground(t *testing.T, endpoint string, botLog fmt.Stringer) *playground {
	t.Helper()
	cli := playgroundBin(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("make test-playground needs Node.js: node is not on PATH")
	}
	preload, err := filepath.Abs(filepath.Join(playgroundDir, "loopback.js"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The Playground falls back to a random port when the one asked for
	// is taken, which would leave its service URL wrong: try again then.
	for try := 0; ; try++ {
		pg, ok := launchPlayground(t, node, preload, cli, dir, endpoint)
		if ok {
			pg.botLog = botLog
			return pg
		}
		if try == 2 {
			t.Fatalf("the Playground never got the port it was given\n%s", pg.log)
		}
	}
}

func launchPlayground(t *testing.T, node, preload, cli, dir, endpoint string) (*playground, bool) {
	t.Helper()
	_, portText, _ := net.SplitHostPort(freeAddr(t))
	port, _ := strconv.Atoi(portText)
	base := "http://127.0.0.1:" + portText
	logFile := filepath.Join(dir, "playground-"+portText+".log")
	cmd := exec.Command(node, "-r", preload, cli,
		"--app-endpoint", endpoint, "--channel-id", "msteams",
		"--port", portText, "--service-url", base+"/_connector",
		"--disable-telemetry")
	cmd.Dir = dir // its config file and logs stay in the temp folder
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		// Its own switch not to open a browser, which would fail on a
		// machine without one.
		"TEAMSAPPTESTER_BROWSER=none",
		"M365_AGENTS_PLAYGROUND_LOGFILE=" + logFile,
	}
	out := &syncBuffer{}
	pg := &playground{base: base, log: playgroundLog{out, logFile}, shown: map[string][]fakebf.Message{}, changed: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = out
	exited := startProcess(t, cmd, "the Playground")
	listening := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if p, ok := strings.CutPrefix(sc.Text(), "Listening on "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(p))
				select {
				case listening <- n:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case got := <-listening:
		if got != port {
			return pg, false
		}
	case <-exited:
		t.Fatalf("the Playground exited before listening\n%s", pg.log)
	case <-time.After(patience):
		t.Fatalf("the Playground did not say where it listens\n%s", pg.log)
	}
	waitFor(t, "the Playground's configuration", exited, pg.log, func() bool {
		resp, err := http.Get(base + "/_internal/v1/config")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var v struct {
			Config json.RawMessage `json:"config"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
			return false
		}
		return json.Unmarshal(v.Config, &pg.cfg) == nil && pg.cfg.PersonalChat.ID != ""
	})
	if pg.cfg.Bot.ID == "" || pg.cfg.CurrentUser.ID == "" || len(pg.cfg.Teams) == 0 || len(pg.cfg.Teams[0].Channels) == 0 {
		t.Fatalf("the Playground's configuration names no bot or user: %+v", pg.cfg)
	}
	pg.subscribe(t)
	return pg, true
}

// playgroundLog is the Playground's output and log file, for failures.
type playgroundLog struct {
	out  *syncBuffer
	file string
}

func (l playgroundLog) String() string {
	b, _ := os.ReadFile(l.file)
	return "Playground output:\n" + l.out.String() + "\nPlayground log:\n" + string(b)
}

// streamEvent is what the Playground's page is told: a message created
// or updated in a conversation.
type streamEvent struct {
	Action       string `json:"action"`
	Conversation string `json:"actionConversationId"`
	Message      struct {
		MessageID   string              `json:"messageId"`
		From        struct{ ID string } `json:"from"`
		Text        string              `json:"text"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	} `json:"message"`
}

// subscribe reads the conversation stream the Playground's page reads,
// keeping the bot's messages in each conversation as they are shown.
func (pg *playground) subscribe(t *testing.T) {
	t.Helper()
	ws := "ws" + strings.TrimPrefix(pg.base, "http") + "/_ws_conversation/v1/conversations/stream"
	conn, _, err := websocket.DefaultDialer.Dial(ws, nil)
	if err != nil {
		t.Fatalf("the Playground's conversation stream: %v\n%s", err, pg.log)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				pg.mu.Lock()
				pg.readErr = err
				close(pg.changed)
				pg.changed = make(chan struct{})
				pg.mu.Unlock()
				return
			}
			var e streamEvent
			if json.Unmarshal(data, &e) != nil || e.Message.From.ID != pg.cfg.Bot.ID {
				continue
			}
			m := fakebf.Message{ID: e.Message.MessageID, From: e.Message.From.ID, Text: e.Message.Text}
			for _, a := range e.Message.Attachments {
				m.Attachments = append(m.Attachments, fakebf.Attachment{ContentType: a.ContentType, Content: a.Content})
			}
			pg.mu.Lock()
			shown := pg.shown[e.Conversation]
			switch e.Action {
			case "createMessage":
				shown = append(shown, m)
			case "updateMessage":
				for i := range shown {
					if shown[i].ID == m.ID {
						m.Updates = shown[i].Updates + 1
						shown[i] = m
					}
				}
			}
			pg.shown[e.Conversation] = shown
			close(pg.changed)
			pg.changed = make(chan struct{})
			pg.mu.Unlock()
		}
	}()
}

// await waits until what the personal chat shows satisfies cond, and
// returns it.
func (pg *playground) await(t *testing.T, what string, cond func([]fakebf.Message) bool) []fakebf.Message {
	t.Helper()
	return pg.awaitIn(t, pg.cfg.PersonalChat.ID, what, cond)
}

// awaitIn waits until what a conversation shows satisfies cond, and
// returns it.
func (pg *playground) awaitIn(t *testing.T, conv, what string, cond func([]fakebf.Message) bool) []fakebf.Message {
	t.Helper()
	deadline := time.After(patience)
	for {
		pg.mu.Lock()
		shown, changed, readErr := slicesClone(pg.shown[conv]), pg.changed, pg.readErr
		pg.mu.Unlock()
		if cond(shown) {
			return shown
		}
		if readErr != nil {
			t.Fatalf("waiting for %s: the conversation stream ended: %v\n%s\ntrustbot:\n%s", what, readErr, pg.log, pg.botLog)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("gave up waiting for %s\n%s\ntrustbot:\n%s", what, pg.log, pg.botLog)
		}
	}
}

func slicesClone(ms []fakebf.Message) []fakebf.Message { return append([]fakebf.Message(nil), ms...) }

// shownCount is how many bot messages the personal chat shows.
func (pg *playground) shownCount() int {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return len(pg.shown[pg.cfg.PersonalChat.ID])
}

// post sends JSON to one of the Playground's endpoints, as its page does.
func (pg *playground) post(t *testing.T, path string, body any) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(pg.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s %s: %d %s", path, b, resp.StatusCode, answer)
	}
	return answer
}

// install has the Playground tell the bot it was added to the personal
// chat, as its page does on opening, and returns the greeting.
func (pg *playground) install(t *testing.T) fakebf.Message {
	t.Helper()
	before := pg.shownCount()
	pg.post(t, "/_debug/conversation/"+pg.cfg.PersonalChat.ID+"/installation", map[string]any{})
	return pg.await(t, "the greeting", func(ms []fakebf.Message) bool { return len(ms) > before })[before]
}

// say types text in the personal chat and returns the one message that
// answers it.
func (pg *playground) say(t *testing.T, text string) fakebf.Message {
	t.Helper()
	before := pg.shownCount()
	pg.post(t, "/_conversation/v1/conversations/"+pg.cfg.PersonalChat.ID+"/messages", map[string]any{
		"type": "text", "text": text, "textFormat": "plain", "from": map[string]string{"id": pg.cfg.CurrentUser.ID},
	})
	return pg.await(t, "the answer to "+strconv.Quote(text), func(ms []fakebf.Message) bool { return len(ms) > before })[before]
}

// mention posts text in the team's general channel, @mentioning the bot
// first as Teams writes it, and returns the conversation of the new post.
func (pg *playground) mention(t *testing.T, text string) string {
	t.Helper()
	at := "<at>" + pg.cfg.Bot.Name + "</at>"
	answer := pg.post(t, "/_conversation/v1/conversations/"+pg.cfg.Teams[0].Channels[0].ID+"/messages", map[string]any{
		"type": "text", "text": at + " " + text, "textFormat": "plain", "from": map[string]string{"id": pg.cfg.CurrentUser.ID},
		"mentions": []map[string]any{{"mentioned": map[string]string{"id": pg.cfg.Bot.ID}, "text": at}},
	})
	var v struct {
		PostConversationID string `json:"postConversationId"`
	}
	if err := json.Unmarshal(answer, &v); err != nil || v.PostConversationID == "" {
		t.Fatalf("a channel post answered %s: %v", answer, err)
	}
	return v.PostConversationID
}

// press presses the button of m whose action is id (the first whose value
// contains value), the card's inputs at the values given, as the
// Playground's page sends an Action.Submit, and
// returns the message that answers it, or m as updated in place.
func (pg *playground) press(t *testing.T, m fakebf.Message, id, value string, inputs ...map[string]any) fakebf.Message {
	t.Helper()
	data := actionData(t, m, id, value)
	for _, in := range inputs {
		for k, v := range in {
			data[k] = v
		}
	}
	pg.mu.Lock()
	before := slicesClone(pg.shown[pg.cfg.PersonalChat.ID])
	pg.mu.Unlock()
	pg.post(t, "/_conversation/v1/submit", map[string]any{
		"conversation": map[string]string{"id": pg.cfg.PersonalChat.ID},
		"replyToId":    m.ID,
		"value":        data,
		"from":         map[string]string{"id": pg.cfg.CurrentUser.ID},
	})
	var got fakebf.Message
	pg.await(t, "the answer to "+id, func(ms []fakebf.Message) bool {
		if len(ms) > len(before) {
			got = ms[len(before)]
			return true
		}
		for i, now := range ms {
			if now.ID == m.ID && now.Updates > before[i].Updates {
				got = now
				return true
			}
		}
		return false
	})
	return got
}
