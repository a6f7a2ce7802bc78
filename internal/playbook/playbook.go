// Package playbook loads trustbot's content (tips, phrasings, the tone check,
// journeys, check-in questions and interface strings) from YAML files in an
// fs.FS, checks it with file and line for every problem, and answers lookups.
package playbook

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Text is one sentence or paragraph in every language, keyed by language
// code.
type Text map[string]string

// In returns the text in l, falling back to the other languages so that a
// reader never gets an empty string from valid content.
func (t Text) In(l trustbot.Lang) string {
	if s := t[string(l)]; s != "" {
		return s
	}
	for _, o := range trustbot.Langs {
		if s := t[string(o)]; s != "" {
			return s
		}
	}
	return ""
}

// Audiences a tip may be written for.
const (
	Everyone = "everyone"
	Managers = "managers"
)

// Topic is one subject of tips, stored as tips/<id>.yaml.
type Topic struct {
	ID       string `yaml:"topic"`
	Order    int    `yaml:"order"`
	Audience string `yaml:"audience"`
	Title    Text   `yaml:"title"`
	Summary  Text   `yaml:"summary"`
	Aliases  Words  `yaml:"aliases"`
	Tips     []*Tip `yaml:"tips"`
}

// Tip is one piece of advice.
type Tip struct {
	ID       string `yaml:"id"`
	Title    Text   `yaml:"title"`
	Body     Text   `yaml:"body"`
	Try      Text   `yaml:"try"`
	Audience string `yaml:"audience"`
	Source   string `yaml:"source"`

	Topic *Topic `yaml:"-"`
}

// Situation is a moment people need words for, stored as
// phrasings/<id>.yaml.
type Situation struct {
	ID        string      `yaml:"situation"`
	Order     int         `yaml:"order"`
	Title     Text        `yaml:"title"`
	Summary   Text        `yaml:"summary"`
	Aliases   Words       `yaml:"aliases"`
	Phrasings []*Phrasing `yaml:"phrasings"`
}

// Phrasing is a ready-to-send message, polite and, where natural, casual.
type Phrasing struct {
	ID     string `yaml:"id"`
	Note   Text   `yaml:"note"`
	Polite Text   `yaml:"polite"`
	Casual Text   `yaml:"casual"`

	Situation *Situation `yaml:"-"`
}

// HasCasual reports whether the phrasing has a casual variant.
func (p *Phrasing) HasCasual() bool { return len(p.Casual) > 0 }

// ToneCue is one part of a draft the tone check looks for on its own (a
// private contact, an ask, urgency...): its name, shown beside the words
// it found, and its patterns.
type ToneCue struct {
	ID     string              `yaml:"id"`
	Name   Text                `yaml:"name"`
	Match  map[string][]string `yaml:"match"`
	Except map[string][]string `yaml:"except"`
}

// ToneFlag is one finding of the tone check: what it is called, why it
// matters, and the phrasing situations the reply offers for it.
type ToneFlag struct {
	ID      string   `yaml:"id"`
	Label   Text     `yaml:"label"`
	Explain Text     `yaml:"explain"`
	Offer   []string `yaml:"offer"`
}

// Tone is the tone check: the cues and flags of tone/rules.yaml and the
// detector built from them.
type Tone struct {
	Replace      map[string]string `yaml:"replace"`
	Words        map[string]string `yaml:"words"`
	Cues         []*ToneCue        `yaml:"cues"`
	Sets         []*ToneCue        `yaml:"sets"`
	Flags        []*ToneFlag       `yaml:"flags"`
	Asking       []string          `yaml:"asking"`
	AfterNoTopic string            `yaml:"after_no_topic"`
	// LearnedName names the words a flag of the learned part was raised
	// on (the cue tone.CueLearned).
	LearnedName Text `yaml:"learned_name"`

	*tone.Detector `yaml:"-"`
}

// Cue returns the cue with the given ID.
func (t *Tone) Cue(id string) (*ToneCue, bool) {
	if id == tone.CueLearned && len(t.LearnedName) > 0 {
		return &ToneCue{ID: id, Name: t.LearnedName}, true
	}
	for _, c := range t.Cues {
		if c.ID == id {
			return c, true
		}
	}
	return nil, false
}

// Flag returns the flag with the given ID.
func (t *Tone) Flag(id string) (*ToneFlag, bool) {
	for _, f := range t.Flags {
		if f.ID == id {
			return f, true
		}
	}
	return nil, false
}

// Offers returns the phrasing situations a reply to the result offers, in
// the order of its flags. A situation that asks for a contact or comes
// back to an ask is never offered (the lint refuses one in a flag): the
// check cannot know whether this person already said no.
func (t *Tone) Offers(r tone.Result) []string {
	var out []string
	for _, f := range r.Flags {
		tf, ok := t.Flag(f.ID)
		if !ok {
			continue
		}
		for _, s := range tf.Offer {
			if slices.Contains(out, s) || slices.Contains(t.Asking, s) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// AskedAfterNo counts the samples of lang labelled as a repeat ask whose
// reply would offer a situation that asks: the check's promise is that
// there are none.
func (t *Tone) AskedAfterNo(samples []tone.Sample, lang string) int {
	n := 0
	for _, s := range samples {
		if s.Lang != lang || !slices.Contains(s.Labels, tone.RepeatAsk) {
			continue
		}
		if slices.ContainsFunc(t.Offers(t.Check(s.Text)), func(id string) bool { return slices.Contains(t.Asking, id) }) {
			n++
		}
	}
	return n
}

// ToneExample is a draft with the exact set of rules it must raise.
type ToneExample struct {
	Lang  string   `yaml:"lang"`
	Draft string   `yaml:"draft"`
	Flags []string `yaml:"flags"`

	File string `yaml:"-"`
	Line int    `yaml:"-"`
}

// Choice is one answer a user can pick by button.
type Choice struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
}

// Message is a titled paragraph.
type Message struct {
	Title Text `yaml:"title"`
	Body  Text `yaml:"body"`
}

// Step is one follow-up of a journey.
type Step struct {
	ID          string `yaml:"id"`
	Day         int    `yaml:"day"`
	Step        int    `yaml:"step"`
	Title       Text   `yaml:"title"`
	Body        Text   `yaml:"body"`
	Topic       string `yaml:"topic"`
	AskSigns    bool   `yaml:"ask_signs"`
	AskPromises bool   `yaml:"ask_promises"`
	Actions     []Text `yaml:"actions"`
}

// Journey is a series of messages over weeks: the cooling-off period, the
// trust plan or the repair of trust.
type Journey struct {
	ID              string             `yaml:"journey"`
	Title           Text               `yaml:"title"`
	Intro           Text               `yaml:"intro"`
	SignsQuestion   Text               `yaml:"signs_question"`
	Signs           []Choice           `yaml:"signs"`
	Stages          []Choice           `yaml:"stages"`
	GoalPlaceholder Text               `yaml:"goal_placeholder"`
	PromiseQuestion Text               `yaml:"promise_question"`
	PromiseAnswers  []Choice           `yaml:"promise_answers"`
	Steps           []Step             `yaml:"steps"`
	Review          *Message           `yaml:"review"`
	Finished        *Message           `yaml:"finished"`
	Stopped         *Message           `yaml:"stopped"`
	Endings         map[string]Message `yaml:"endings"`
}

// Question is one question of the reflection check-in.
type Question struct {
	ID      string   `yaml:"id"`
	Text    Text     `yaml:"text"`
	Choices []Choice `yaml:"choices"`
}

// Checkin is the content of the reflection check-in.
type Checkin struct {
	Title             Text       `yaml:"title"`
	Intro             Text       `yaml:"intro"`
	Questions         []Question `yaml:"questions"`
	NoteLabel         Text       `yaml:"note_label"`
	NotePlaceholder   Text       `yaml:"note_placeholder"`
	ActionLabel       Text       `yaml:"action_label"`
	ActionPlaceholder Text       `yaml:"action_placeholder"`
	Thanks            Text       `yaml:"thanks"`
}

// Library is the whole loaded content.
type Library struct {
	Topics     []*Topic     // by Order
	Situations []*Situation // by Order
	Tone       *Tone
	Examples   []ToneExample
	Journeys   map[string]*Journey
	Checkin    *Checkin
	ui         map[trustbot.Lang]map[string]UIString

	topics     map[string]*Topic
	tips       map[string]*Tip
	situations map[string]*Situation
	phrasings  map[string]*Phrasing
	allTips    []*Tip            // every tip, in topic order
	byAudience map[string][]*Tip // the same, by audience

	topicNames, situationNames nameIndex
}

// Topic returns the topic with the given ID.
func (l *Library) Topic(id string) (*Topic, bool) { t, ok := l.topics[id]; return t, ok }

// Tip returns the tip with the given ID.
func (l *Library) Tip(id string) (*Tip, bool) { t, ok := l.tips[id]; return t, ok }

// Situation returns the situation with the given ID.
func (l *Library) Situation(id string) (*Situation, bool) {
	s, ok := l.situations[id]
	return s, ok
}

// Phrasing returns the phrasing with the given ID.
func (l *Library) Phrasing(id string) (*Phrasing, bool) { p, ok := l.phrasings[id]; return p, ok }

// Tips returns every tip, in topic order.
// The slice is shared: callers must not change it.
func (l *Library) Tips() []*Tip { return l.allTips }

// TipsFor returns the tips meant for an audience (Everyone or Managers), in
// topic order. The slice is shared: callers must not change it.
func (l *Library) TipsFor(audience string) []*Tip { return l.byAudience[audience] }

// UIString is one entry of the interface catalog: a sentence, or plural
// forms chosen by the {count} placeholder ("zero", "one", "other").
type UIString struct {
	Text  string
	Forms map[string]string
}

// UnmarshalYAML reads a sentence or a mapping of plural forms.
func (u *UIString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		return n.Decode(&u.Forms)
	}
	return n.Decode(&u.Text)
}

// Plural forms of an interface string: one and other are required, zero
// is optional (for a sentence that reads differently when there is none).
var pluralForms = []string{"zero", "one", "other"}

// form returns the text for count: zero for 0 when given, one for 1,
// other for the rest (and when count is not a number).
func (u UIString) form(count string) string {
	if u.Forms == nil {
		return u.Text
	}
	switch n, err := strconv.Atoi(count); {
	case err == nil && n == 0 && u.Forms["zero"] != "":
		return u.Forms["zero"]
	case err == nil && n == 1:
		return u.Forms["one"]
	}
	return u.Forms["other"]
}

// T returns the interface string key in lang, with each {name} placeholder
// replaced by the value that follows name in args (pairs of name, value).
// A string with plural forms picks its form by the value of count.
// A missing key returns the key itself so that a gap shows rather than
// hides; the lint and the tests keep that from happening.
func (l *Library) T(lang trustbot.Lang, key string, args ...string) string {
	u, ok := l.ui[lang][key]
	if !ok {
		u, ok = l.ui[trustbot.Japanese][key]
	}
	if !ok {
		return key
	}
	count := ""
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "count" {
			count = args[i+1]
		}
	}
	return fill(u.form(count), args)
}

// fill replaces each {name} of s whose name args pairs with a value
// (name, value, name, value…), leaving any other braces as they are. A
// value is not scanned again.
func fill(s string, args []string) string {
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 32)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '}')
		if j < 0 {
			break
		}
		name, found := s[i+1:i+1+j], false
		for k := 0; k+1 < len(args); k += 2 {
			if args[k] == name {
				b.WriteString(s[:i])
				b.WriteString(args[k+1])
				s, found = s[i+2+j:], true
				break
			}
		}
		if !found {
			b.WriteString(s[:i+1])
			s = s[i+1:]
		}
	}
	b.WriteString(s)
	return b.String()
}

// HasKey reports whether the interface catalog has key in every language.
func (l *Library) HasKey(key string) bool {
	for _, lang := range trustbot.Langs {
		if _, ok := l.ui[lang][key]; !ok {
			return false
		}
	}
	return true
}

// Keys returns every interface string key, sorted.
func (l *Library) Keys() []string { return sortedKeys(l.ui[trustbot.Japanese]) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
