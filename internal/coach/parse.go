package coach

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/trustbot/trustbot/internal/playbook"
)

// MaxInput is how much of a command's text is read, in characters. Longer
// text is cut there; the tone check says so.
const MaxInput = 4000

// Command is a parsed "/trust ..." text.
type Command struct {
	// Name is the canonical subcommand ("tip", "help", ...), "" for an
	// empty text, or the word as typed when it is unknown (Known false).
	Name  string
	Known bool
	// Word is the subcommand as the user typed it.
	Word string
	// Args are the words after the subcommand, folded to half-width and
	// lower case.
	Args []string
	// Rest is the text after the subcommand as typed (cleaned, not folded):
	// the draft of a tone check.
	Rest string
	// Truncated reports that the text was longer than MaxInput.
	Truncated bool
}

// commands maps every accepted spelling to its canonical subcommand. The
// Japanese aliases are listed in the help text of ui/ja.yaml.
var commands = map[string]string{
	"help": "help", "?": "help", "ヘルプ": "help", "へるぷ": "help", "使い方": "help", "つかいかた": "help",
	"tip": "tip", "tips": "tip", "ヒント": "tip", "ひんと": "tip",
	"phrase": "phrase", "phrases": "phrase", "phrasing": "phrase", "言い方": "phrase", "いいかた": "phrase", "フレーズ": "phrase", "文例": "phrase",
	"check": "check", "tone": "check", "チェック": "check", "ちぇっく": "check", "確認": "check",
	"lang": "lang", "language": "lang", "言語": "lang", "げんご": "lang",
	"checkin": "checkin", "check-in": "checkin", "reflect": "checkin", "チェックイン": "checkin", "ふりかえり": "checkin", "振り返り": "checkin", "振返り": "checkin",
	"history": "history", "履歴": "history", "記録": "history", "きろく": "history",
	"workdays": "workdays", "workday": "workdays", "稼働日": "workdays", "勤務日": "workdays", "曜日": "workdays",
	"quiet": "quiet", "quiet-hours": "quiet", "静かな時間": "quiet", "通知しない時間": "quiet", "おやすみ": "quiet",
	"holidays": "holidays", "holiday": "holidays", "祝日": "holidays",
	"pause": "pause", "一時停止": "pause", "休止": "pause", "お休み": "pause",
	"resume": "resume", "再開": "resume",
	"declined": "declined", "断られた": "declined", "ことわられた": "declined", "断られました": "declined",
	"repair": "repair", "修復": "repair", "関係修復": "repair", "謝りたい": "repair", "信頼回復": "repair",
	"plan": "plan", "計画": "plan", "プラン": "plan", "信頼プラン": "plan",
	"journeys": "journeys", "journey": "journeys", "進行中": "journeys", "ジャーニー": "journeys",
	"export": "export", "エクスポート": "export", "書き出し": "export",
	"forget": "forget", "削除": "forget", "データ削除": "forget", "忘れて": "forget",
	"home": "home", "overview": "home", "ホーム": "home", "ほーむ": "home", "概要": "home",
	"weekly": "weekly", "今週のヒント": "weekly", "週間ヒント": "weekly", "ウィークリー": "weekly",
}

// Canonical argument words: what a command's first argument means, in
// whichever language or spelling it was typed.
const (
	WordStatus = "status"
	WordOn     = "on"
	WordOff    = "off"
	WordNow    = "now"
	WordAgain  = "again"
	WordJP     = "jp"
)

// words maps every accepted spelling of an argument word to its canonical
// form. Every command reads its arguments through this one table (Word), so
// that "確認" means status for /trust checkin, plan and weekly alike.
var words = map[string]string{
	"status": WordStatus, "state": WordStatus, "show": WordStatus, "状態": WordStatus, "確認": WordStatus, "設定": WordStatus, "進み具合": WordStatus, "じょうたい": WordStatus, "かくにん": WordStatus,
	"on": WordOn, "start": WordOn, "オン": WordOn, "開始": WordOn, "購読": WordOn, "はじめる": WordOn,
	"off": WordOff, "stop": WordOff, "none": WordOff, "オフ": WordOff, "停止": WordOff, "やめる": WordOff, "終了": WordOff, "なし": WordOff, "止める": WordOff,
	"now": WordNow, "今": WordNow, "いま": WordNow, "今すぐ": WordNow,
	"again": WordAgain, "また": WordAgain, "もう一度": WordAgain, "再び": WordAgain, "二度目": WordAgain, "2回目": WordAgain,
	"jp": WordJP, "japan": WordJP, "japanese": WordJP, "日本": WordJP,
}

// Word returns the canonical form of an argument word (already folded), or
// the word itself when it is none of the table's.
func Word(arg string) string {
	if w, ok := words[arg]; ok {
		return w
	}
	return arg
}

// Clean makes arbitrary input safe to handle: invalid UTF-8 becomes U+FFFD,
// control characters other than newline and tab are dropped, ideographic
// spaces become ordinary spaces, and the text is cut to max characters. It
// reports whether it cut.
func Clean(s string, max int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(min(len(s), max*4))
	n, cut := 0, false
	for _, r := range s {
		if n >= max {
			cut = true
			break
		}
		switch {
		case r == '\u3000':
			r = ' '
		case r == '\r':
			r = '\n'
		case r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\uFEFF'):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String(), cut
}

// Fold makes a word comparable: half-width letters and digits, full-width
// katakana, lower case. Text in ASCII (most commands) has no width to
// fold.
func Fold(s string) string {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return strings.ToLower(width.Fold.String(s))
		}
	}
	return strings.ToLower(s)
}

// Parse reads the text that followed "/trust".
func Parse(text string) Command {
	text, cut := Clean(text, MaxInput)
	text = strings.TrimSpace(text)
	var c Command
	c.Truncated = cut
	if text == "" {
		return c
	}
	word, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		word, rest = text[:i], strings.TrimSpace(text[i:])
	}
	c.Word = word
	c.Rest = rest
	c.Args = strings.Fields(Fold(rest))
	folded := Fold(word)
	if folded == "/trust" {
		// "/trust help" typed where no slash command runs (a DM, the
		// console), full-width "／ｔｒｕｓｔ" included.
		inner := Parse(rest)
		inner.Truncated = inner.Truncated || cut
		return inner
	}
	if name, ok := commands[folded]; ok {
		c.Name, c.Known = name, true
	} else {
		c.Name = folded
	}
	return c
}

// Suggest returns the canonical subcommand closest to an unknown word, or ""
// when none is close enough to be a likely typo.
func Suggest(word string) string {
	w := Fold(word)
	if utf8.RuneCountInString(w) < 2 {
		return ""
	}
	best, bestDist := "", -1
	for spelling, name := range commands {
		if utf8.RuneCountInString(spelling) < 2 {
			continue
		}
		d := playbook.Distance(w, spelling)
		limit := max(1, utf8.RuneCountInString(spelling)/3)
		if d <= limit && (bestDist < 0 || d < bestDist || d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	return best
}
