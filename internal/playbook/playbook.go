// Package playbook loads trustbot's content (tips, phrasings, tone rules,
// journeys, check-in questions and interface strings) from YAML files in an
// fs.FS, checks it with file and line for every problem, and answers lookups.
package playbook

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

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

// ToneRule is one pattern of pressure the tone check flags.
type ToneRule struct {
	ID      string              `yaml:"id"`
	Label   Text                `yaml:"label"`
	Explain Text                `yaml:"explain"`
	Match   map[string][]string `yaml:"match"`
	Unless  map[string][]string `yaml:"unless"`
	Soften  []string            `yaml:"soften"`

	match, unless []*regexp.Regexp
}

// Matches reports whether the rule fires on a draft that has already been
// folded by FoldDraft.
func (r *ToneRule) Matches(folded string) bool {
	hit := false
	for _, re := range r.match {
		if re.MatchString(folded) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	for _, re := range r.unless {
		if re.MatchString(folded) {
			return false
		}
	}
	return true
}

// compile compiles every pattern it can and returns an error for each one
// it cannot.
func (r *ToneRule) compile() []error {
	var errs []error
	for _, set := range []struct {
		src map[string][]string
		dst *[]*regexp.Regexp
	}{{r.Match, &r.match}, {r.Unless, &r.unless}} {
		*set.dst = nil
		for _, lang := range sortedKeys(set.src) {
			for _, p := range set.src[lang] {
				re, err := regexp.Compile(p)
				if err != nil {
					errs = append(errs, fmt.Errorf("pattern %q: %v", p, err))
					continue
				}
				*set.dst = append(*set.dst, re)
			}
		}
	}
	return errs
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
	ToneRules  []*ToneRule
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
	pairs := make([]string, 0, len(args))
	count := ""
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
		if args[i] == "count" {
			count = args[i+1]
		}
	}
	s := u.form(count)
	if len(pairs) == 0 {
		return s
	}
	return strings.NewReplacer(pairs...).Replace(s)
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
