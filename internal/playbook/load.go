package playbook

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Length limits, in characters, for the fields of the content. Each is set
// by the Slack surface the field is rendered into, with room to spare:
// button labels and option texts 75 and header blocks 150
// (docs.slack.dev Block Kit reference), sections 3,000.
const (
	MaxTitle    = 60   // topic, tip, situation and rule titles: headers, menu options
	MaxLabel    = 30   // answer choices: buttons
	MaxTipBody  = 600  // one tip: a section, several fit one message
	MaxTry      = 200  // "try this today" line
	MaxPhrasing = 500  // one phrasing: a quote block
	MaxNote     = 150  // when to use a phrasing: a context line
	MaxExplain  = 200  // why a tone rule fired
	MaxMessage  = 3000 // a journey or check-in paragraph: one section
	MaxUIString = 3000 // any interface string: at most one section
	MaxAlias    = 30   // a word typed after /trust tip or /trust phrase
)

// Problem is one thing wrong with the content, at a place in a file.
// A warning (Warn) does not stop the content from loading, but the
// shipped content must have none.
type Problem struct {
	File string
	Line int
	Msg  string
	Warn bool
}

func (p Problem) String() string {
	msg := p.Msg
	if p.Warn {
		msg = "warning: " + msg
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, msg)
	}
	return fmt.Sprintf("%s: %s", p.File, msg)
}

// LintError carries every problem found in a content folder.
type LintError struct{ Problems []Problem }

func (e *LintError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "playbooks: %d problem(s)", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads and checks the content in fsys. On any problem other than a
// warning it returns a *LintError listing all of them and no library:
// broken content is never served. The tone examples are run by Lint, not
// at every load.
func Load(fsys fs.FS) (*Library, error) {
	l, problems := load(fsys, false)
	problems = slices.DeleteFunc(problems, func(p Problem) bool { return p.Warn })
	if len(problems) > 0 {
		return nil, &LintError{Problems: problems}
	}
	return l, nil
}

// LoadAnyway reads the content in fsys and returns it with every problem
// found, for tools that measure content still being written. The library
// may be incomplete; never serve it.
func LoadAnyway(fsys fs.FS) (*Library, []Problem) { return load(fsys, false) }

// Lint returns every problem in the content of fsys, sorted by file and
// line, the tone examples that the check gets wrong included.
func Lint(fsys fs.FS) []Problem {
	_, problems := load(fsys, true)
	return problems
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

type loader struct {
	fsys        fs.FS
	problems    []Problem
	texts       []textAt // every text, for the style checks
	style       doc
	runExamples bool
}

// doc is one parsed file: its name and YAML tree, for line numbers.
type doc struct {
	file string
	root *yaml.Node
}

// line returns the line of the node at path (mapping keys as strings,
// sequence positions as ints), or of the deepest node found on the way.
func (d doc) line(p ...any) int {
	n := d.root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range p {
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return n.Line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					n, found = n.Content[i+1], true
					if n.Kind == yaml.ScalarNode {
						return n.Line
					}
					break
				}
			}
			if !found {
				return n.Line
			}
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return n.Line
			}
			n = n.Content[s]
		}
	}
	return n.Line
}

func (ld *loader) addf(d doc, line int, format string, args ...any) {
	ld.problems = append(ld.problems, Problem{File: d.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// decode parses file strictly into v: unknown fields are problems.
func (ld *loader) decode(file string, v any) (doc, bool) {
	d := doc{file: file}
	b, err := fs.ReadFile(ld.fsys, file)
	if err != nil {
		ld.addf(d, 0, "cannot read: %v", err)
		return d, false
	}
	if !utf8.Valid(b) {
		ld.addf(d, 0, "not valid UTF-8")
		return d, false
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		ld.yamlErr(d, err)
		return d, false
	}
	d.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		ld.yamlErr(d, err)
		// Type errors (unknown fields, wrong kinds) leave the rest of the
		// file decoded: check it too, so one run shows every problem.
		_, partial := errors.AsType[*yaml.TypeError](err)
		return d, partial
	}
	return d, true
}

func (ld *loader) yamlErr(d doc, err error) {
	var msgs []string
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for _, m := range msgs {
		if mm := yamlLine.FindStringSubmatch(m); mm != nil {
			n, _ := strconv.Atoi(mm[1])
			ld.addf(d, n, "%s", mm[2])
		} else {
			ld.addf(d, 0, "%s", m)
		}
	}
}

// text checks one language pair: both languages present, non-empty, within
// max characters. An absent optional pair is fine.
func (ld *loader) text(d doc, t Text, required bool, max int, p ...any) {
	name := fmt.Sprint(p[len(p)-1])
	if len(t) == 0 {
		if required {
			ld.addf(d, d.line(p...), "%s is missing", name)
		}
		return
	}
	for k := range t {
		if _, ok := trustbot.ParseLang(k); !ok || k != strings.ToLower(k) || len(k) != 2 {
			ld.addf(d, d.line(append(p, k)...), "%s has unknown language %q (use ja and en)", name, k)
		}
	}
	for _, lang := range trustbot.Langs {
		s, ok := t[string(lang)]
		switch {
		case !ok:
			ld.addf(d, d.line(p...), "%s has no %s text: every text needs ja and en", name, lang)
		case strings.TrimSpace(s) == "":
			ld.addf(d, d.line(append(p, string(lang))...), "%s.%s is empty", name, lang)
		case utf8.RuneCountInString(s) > max:
			ld.addf(d, d.line(append(p, string(lang))...), "%s.%s is %d characters, over the limit of %d", name, lang, utf8.RuneCountInString(s), max)
		}
		if ok {
			ld.keep(d, d.line(append(p, string(lang))...), string(lang), s)
		}
	}
}

func (ld *loader) id(d doc, id, kind string, seen map[string]string, p ...any) {
	line := d.line(p...)
	switch {
	case id == "":
		ld.addf(d, line, "%s has no id", kind)
		return
	case !idPattern.MatchString(id) || len(id) > 64:
		ld.addf(d, line, "%s id %q: use lower-case letters, digits and single hyphens, at most 64", kind, id)
	}
	if prev, dup := seen[id]; dup {
		ld.addf(d, line, "duplicate %s id %q (first at %s)", kind, id, prev)
		return
	}
	seen[id] = fmt.Sprintf("%s:%d", d.file, line)
}

func (ld *loader) yamlFiles(dir string) []string {
	entries, err := fs.ReadDir(ld.fsys, dir)
	if err != nil {
		ld.problems = append(ld.problems, Problem{File: dir, Msg: "folder missing or unreadable"})
		return nil
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		if !strings.HasSuffix(e.Name(), ".yaml") {
			if !strings.HasSuffix(e.Name(), ".md") {
				ld.problems = append(ld.problems, Problem{File: path.Join(dir, e.Name()), Msg: "not a .yaml file"})
			}
			continue
		}
		files = append(files, path.Join(dir, e.Name()))
	}
	return files
}

func baseID(file string) string { return strings.TrimSuffix(path.Base(file), ".yaml") }

func load(fsys fs.FS, runExamples bool) (*Library, []Problem) {
	ld := &loader{fsys: fsys, runExamples: runExamples}
	l := &Library{
		Journeys:   map[string]*Journey{},
		ui:         map[trustbot.Lang]map[string]UIString{},
		topics:     map[string]*Topic{},
		tips:       map[string]*Tip{},
		situations: map[string]*Situation{},
		phrasings:  map[string]*Phrasing{},
	}
	st := ld.loadStyle()
	ld.loadTips(l)
	ld.loadPhrasings(l)
	ld.loadTone(l)
	ld.loadJourneys(l)
	ld.loadUI(l)
	if st != nil {
		ld.checkNotation(st)
		ld.checkEndings(st, l)
	}
	slices.SortStableFunc(ld.problems, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return l, ld.problems
}

func (ld *loader) loadTips(l *Library) {
	seenTopic, seenTip := map[string]string{}, map[string]string{}
	names := map[string]nameOwner{}
	for _, file := range ld.yamlFiles("tips") {
		var t Topic
		d, ok := ld.decode(file, &t)
		if !ok {
			continue
		}
		ld.id(d, t.ID, "topic", seenTopic, "topic")
		if t.ID != "" && t.ID != baseID(file) {
			ld.addf(d, d.line("topic"), "topic %q must be in a file named %s.yaml", t.ID, t.ID)
		}
		if t.Audience == "" {
			t.Audience = Everyone
		}
		if t.Audience != Everyone && t.Audience != Managers {
			ld.addf(d, d.line("audience"), "audience %q: use everyone or managers", t.Audience)
		}
		ld.text(d, t.Title, true, MaxTitle, "title")
		ld.text(d, t.Summary, true, MaxMessage, "summary")
		ld.names(d, "topic", t.ID, t.Title, t.Aliases, names, &l.topicNames)
		if len(t.Tips) == 0 {
			ld.addf(d, d.line("tips"), "topic has no tips")
		}
		for i, tip := range t.Tips {
			if tip == nil {
				ld.addf(d, d.line("tips", i), "empty tip")
				continue
			}
			ld.id(d, tip.ID, "tip", seenTip, "tips", i)
			ld.text(d, tip.Title, true, MaxTitle, "tips", i, "title")
			ld.text(d, tip.Body, true, MaxTipBody, "tips", i, "body")
			ld.text(d, tip.Try, false, MaxTry, "tips", i, "try")
			if tip.Audience == "" {
				tip.Audience = t.Audience
			} else if tip.Audience != Everyone && tip.Audience != Managers {
				ld.addf(d, d.line("tips", i, "audience"), "audience %q: use everyone or managers", tip.Audience)
			}
			tip.Topic = &t
			l.tips[tip.ID] = tip
		}
		l.topics[t.ID] = &t
		l.Topics = append(l.Topics, &t)
	}
	slices.SortStableFunc(l.Topics, func(a, b *Topic) int { return a.Order - b.Order })
	// Worked out once here, not on every tip asked for.
	l.byAudience = map[string][]*Tip{}
	for _, t := range l.Topics {
		for _, tip := range t.Tips {
			if tip != nil {
				l.allTips = append(l.allTips, tip)
				l.byAudience[tip.Audience] = append(l.byAudience[tip.Audience], tip)
			}
		}
	}
}

func (ld *loader) loadPhrasings(l *Library) {
	seenSit, seenPhr := map[string]string{}, map[string]string{}
	names := map[string]nameOwner{}
	for _, file := range ld.yamlFiles("phrasings") {
		var s Situation
		d, ok := ld.decode(file, &s)
		if !ok {
			continue
		}
		ld.id(d, s.ID, "situation", seenSit, "situation")
		if s.ID != "" && s.ID != baseID(file) {
			ld.addf(d, d.line("situation"), "situation %q must be in a file named %s.yaml", s.ID, s.ID)
		}
		ld.text(d, s.Title, true, MaxTitle, "title")
		ld.text(d, s.Summary, true, MaxMessage, "summary")
		ld.names(d, "situation", s.ID, s.Title, s.Aliases, names, &l.situationNames)
		if len(s.Phrasings) == 0 {
			ld.addf(d, d.line("phrasings"), "situation has no phrasings")
		}
		for i, p := range s.Phrasings {
			if p == nil {
				ld.addf(d, d.line("phrasings", i), "empty phrasing")
				continue
			}
			ld.id(d, p.ID, "phrasing", seenPhr, "phrasings", i)
			ld.text(d, p.Note, true, MaxNote, "phrasings", i, "note")
			ld.text(d, p.Polite, true, MaxPhrasing, "phrasings", i, "polite")
			ld.text(d, p.Casual, false, MaxPhrasing, "phrasings", i, "casual")
			ld.chatOnly(d, p.Polite, "phrasings", i, "polite")
			ld.chatOnly(d, p.Casual, "phrasings", i, "casual")
			p.Situation = &s
			l.phrasings[p.ID] = p
		}
		l.situations[s.ID] = &s
		l.Situations = append(l.Situations, &s)
	}
	slices.SortStableFunc(l.Situations, func(a, b *Situation) int { return a.Order - b.Order })
}

// ChatPlaceholder, in a phrasing, is the workplace chat the user is on
// ("Slack", "Teams"): the one placeholder a phrasing may hold.
const ChatPlaceholder = "{chat}"

// FillChat names the workplace chat where a phrasing says ChatPlaceholder.
func FillChat(phrasing, chat string) string {
	return strings.ReplaceAll(phrasing, ChatPlaceholder, chat)
}

// chatOnly reports a placeholder in a phrasing other than ChatPlaceholder:
// nothing else would be filled in.
func (ld *loader) chatOnly(d doc, t Text, p ...any) {
	for _, lang := range trustbot.Langs {
		for _, m := range placeholder.FindAllString(t[string(lang)], -1) {
			if m != ChatPlaceholder {
				ld.addf(d, d.line(append(p, string(lang))...), "%s.%s: unknown placeholder %s (a phrasing may hold only %s)", p[len(p)-1], lang, m, ChatPlaceholder)
			}
		}
	}
}

// nameOwner is the topic or situation a folded name belongs to, and where
// it was first given.
type nameOwner struct{ id, at string }

// names checks the aliases of a topic or situation (at least one in each
// language, short, not empty) and adds its ID, titles and aliases to ix.
// A name that folds to another's name is a collision: people typing it
// could not reach both.
func (ld *loader) names(d doc, kind, id string, title Text, aliases Words, seen map[string]nameOwner, ix *nameIndex) {
	if id == "" {
		return
	}
	for k := range aliases {
		if _, ok := trustbot.ParseLang(k); !ok || len(k) != 2 {
			ld.addf(d, d.line("aliases", k), "aliases has unknown language %q (use ja and en)", k)
		}
	}
	type given struct {
		word string
		line int
	}
	all := []given{{id, d.line(kind)}}
	for _, lang := range trustbot.Langs {
		all = append(all, given{title[string(lang)], d.line("title", string(lang))})
	}
	for _, lang := range trustbot.Langs {
		words := aliases[string(lang)]
		if len(words) == 0 {
			ld.addf(d, d.line("aliases"), "aliases has no %s words: give at least one in ja and en", lang)
		}
		for i, w := range words {
			line := d.line("aliases", string(lang), i)
			switch n := utf8.RuneCountInString(w); {
			case newName(w, "").compact == "":
				ld.addf(d, line, "alias %q is empty once punctuation is ignored", w)
				continue
			case n > MaxAlias:
				ld.addf(d, line, "alias %q is %d characters, over the limit of %d", w, n, MaxAlias)
			}
			all = append(all, given{w, line})
		}
	}
	for _, g := range all {
		n := newName(g.word, id)
		if n.compact == "" {
			continue
		}
		if prev, ok := seen[n.compact]; ok {
			if prev.id != id {
				ld.addf(d, g.line, "%q names %s %q and also %s %q (%s): make it belong to one", g.word, kind, id, kind, prev.id, prev.at)
			}
			continue
		}
		seen[n.compact] = nameOwner{id, fmt.Sprintf("%s:%d", d.file, g.line)}
		*ix = append(*ix, n)
	}
}

func (ld *loader) loadTone(l *Library) {
	t := &Tone{}
	d, ok := ld.decode("tone/rules.yaml", t)
	if ok {
		ld.checkTone(d, l, t)
		ld.loadModels(t)
		l.Tone = t
	}

	var ex struct {
		Examples []ToneExample `yaml:"examples"`
	}
	d, ok = ld.decode("tone/examples.yaml", &ex)
	if !ok {
		return
	}
	for i, e := range ex.Examples {
		e.File, e.Line = d.file, d.line("examples", i)
		if _, ok := trustbot.ParseLang(e.Lang); !ok {
			ld.addf(d, e.Line, "example: lang %q: use ja or en", e.Lang)
		}
		if strings.TrimSpace(e.Draft) == "" {
			ld.addf(d, e.Line, "example has no draft")
		}
		for _, f := range e.Flags {
			if !slices.Contains(tone.Flags, f) {
				ld.addf(d, e.Line, "example names unknown flag %q (flags: %s)", f, strings.Join(tone.Flags, ", "))
			}
		}
		l.Examples = append(l.Examples, e)
	}
	if !ld.runExamples || l.Tone == nil || l.Tone.Detector == nil {
		return
	}
	// Run the examples: a pattern change that breaks one is a content
	// problem, reported where a writer will see it.
	for _, e := range l.Examples {
		got := l.Tone.Check(e.Draft).IDs()
		want := slices.Sorted(slices.Values(e.Flags))
		if !slices.Equal(got, want) {
			ld.addf(d, e.Line, "example %q: flags raised %v, want %v", clip(e.Draft, 40), got, want)
		}
	}
}

// checkTone checks tone/rules.yaml against the cues and flags the check
// combines, and builds the detector.
func (ld *loader) checkTone(d doc, l *Library, t *Tone) {
	spec := tone.Spec{Replace: t.Replace, Words: t.Words}
	seen := map[string]string{}
	cueLine := map[string]int{}
	for i, c := range t.Cues {
		if c == nil {
			ld.addf(d, d.line("cues", i), "empty cue")
			continue
		}
		ld.id(d, c.ID, "tone cue", seen, "cues", i)
		cueLine[c.ID] = d.line("cues", i)
		if !slices.Contains(tone.Cues, c.ID) {
			ld.addf(d, d.line("cues", i), "unknown cue %q: the check combines %s", c.ID, strings.Join(tone.Cues, ", "))
		}
		ld.text(d, c.Name, true, MaxLabel, "cues", i, "name")
		for _, set := range []map[string][]string{c.Match, c.Except} {
			for k := range set {
				if _, ok := trustbot.ParseLang(k); !ok {
					ld.addf(d, d.line("cues", i), "cue %q: unknown language %q", c.ID, k)
				}
			}
		}
		for _, lang := range trustbot.Langs {
			if len(c.Match[string(lang)]) == 0 {
				ld.addf(d, d.line("cues", i), "cue %q has no %s match patterns", c.ID, lang)
			}
		}
		cs := tone.CueSpec{ID: c.ID}
		for _, lang := range trustbot.Langs {
			cs.Match = append(cs.Match, c.Match[string(lang)]...)
			cs.Except = append(cs.Except, c.Except[string(lang)]...)
		}
		spec.Cues = append(spec.Cues, cs)
	}
	for _, id := range tone.Cues {
		if _, ok := seen[id]; !ok {
			ld.addf(d, d.line("cues"), "cue %q is missing", id)
		}
	}
	setLine := ld.checkSets(d, t, &spec)
	det, errs := tone.New(spec)
	for _, err := range errs {
		pe, _ := err.(tone.PatternError)
		line := cueLine[pe.Cue]
		if pe.Set {
			line = setLine[pe.Cue]
		}
		ld.addf(d, line, "%v", err)
	}
	t.Detector = det

	seen = map[string]string{}
	for i, f := range t.Flags {
		if f == nil {
			ld.addf(d, d.line("flags", i), "empty flag")
			continue
		}
		ld.id(d, f.ID, "tone flag", seen, "flags", i)
		if !slices.Contains(tone.Flags, f.ID) {
			ld.addf(d, d.line("flags", i), "unknown flag %q: the check raises %s", f.ID, strings.Join(tone.Flags, ", "))
		}
		ld.text(d, f.Label, true, MaxTitle, "flags", i, "label")
		ld.text(d, f.Explain, true, MaxExplain, "flags", i, "explain")
		for j, s := range f.Offer {
			if _, ok := l.situations[s]; !ok {
				ld.addf(d, d.line("flags", i, "offer", j), "flag %q: offer names unknown situation %q", f.ID, s)
			}
			if slices.Contains(t.Asking, s) {
				ld.addf(d, d.line("flags", i, "offer", j), "flag %q offers %q, a way to ask: the check cannot know whether this person already said no", f.ID, s)
			}
		}
	}
	for _, id := range tone.Flags {
		if _, ok := seen[id]; !ok {
			ld.addf(d, d.line("flags"), "flag %q is missing", id)
		}
	}
	for j, s := range t.Asking {
		if _, ok := l.situations[s]; !ok {
			ld.addf(d, d.line("asking", j), "asking names unknown situation %q", s)
		}
	}
	if _, ok := l.topics[t.AfterNoTopic]; !ok {
		ld.addf(d, d.line("after_no_topic"), "after_no_topic names unknown topic %q", t.AfterNoTopic)
	}
}

// checkSets checks the word sets of tone/rules.yaml against those the
// check reads, adds them to spec, and returns the line of each.
func (ld *loader) checkSets(d doc, t *Tone, spec *tone.Spec) map[string]int {
	seen := map[string]string{}
	setLine := map[string]int{}
	for i, c := range t.Sets {
		if c == nil {
			ld.addf(d, d.line("sets", i), "empty set")
			continue
		}
		ld.id(d, c.ID, "tone set", seen, "sets", i)
		setLine[c.ID] = d.line("sets", i)
		if !slices.Contains(tone.Sets, c.ID) {
			ld.addf(d, d.line("sets", i), "unknown set %q: the check reads %s", c.ID, strings.Join(tone.Sets, ", "))
		}
		ld.text(d, c.Name, true, MaxLabel, "sets", i, "name")
		for k := range c.Match {
			if _, ok := trustbot.ParseLang(k); !ok {
				ld.addf(d, d.line("sets", i), "set %q: unknown language %q", c.ID, k)
			}
		}
		if len(c.Except) > 0 {
			ld.addf(d, d.line("sets", i), "set %q: except is not read in a set", c.ID)
		}
		cs := tone.CueSpec{ID: c.ID}
		for _, lang := range trustbot.Langs {
			cs.Match = append(cs.Match, c.Match[string(lang)]...)
		}
		if len(cs.Match) == 0 {
			ld.addf(d, d.line("sets", i), "set %q has no match patterns", c.ID)
		}
		spec.Sets = append(spec.Sets, cs)
	}
	for _, id := range tone.Sets {
		if _, ok := seen[id]; !ok {
			ld.addf(d, d.line("sets"), "set %q is missing: the rules that combine the cues read it", id)
		}
	}
	return setLine
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func (ld *loader) loadJourneys(l *Library) {
	for _, file := range ld.yamlFiles("journeys") {
		if baseID(file) == "checkin" {
			ld.loadCheckin(l, file)
			continue
		}
		var j Journey
		d, ok := ld.decode(file, &j)
		if !ok {
			continue
		}
		if j.ID != baseID(file) {
			ld.addf(d, d.line("journey"), "journey %q must be in a file named %s.yaml", j.ID, j.ID)
		}
		ld.text(d, j.Title, true, MaxTitle, "title")
		ld.text(d, j.Intro, true, MaxMessage, "intro")
		ld.text(d, j.SignsQuestion, len(j.Signs) > 0, MaxMessage, "signs_question")
		ld.text(d, j.GoalPlaceholder, false, 150, "goal_placeholder")
		ld.text(d, j.PromiseQuestion, len(j.PromiseAnswers) > 0, MaxMessage, "promise_question")
		for _, set := range []struct {
			name    string
			choices []Choice
		}{{"signs", j.Signs}, {"stages", j.Stages}, {"promise_answers", j.PromiseAnswers}} {
			seen := map[string]string{}
			for i, c := range set.choices {
				ld.id(d, c.ID, set.name, seen, set.name, i)
				ld.text(d, c.Label, true, MaxLabel, set.name, i, "label")
			}
		}
		seen := map[string]string{}
		lastDay := 0
		if len(j.Steps) == 0 {
			ld.addf(d, d.line("steps"), "journey has no steps")
		}
		for i, s := range j.Steps {
			ld.id(d, s.ID, "step", seen, "steps", i)
			ld.text(d, s.Title, true, MaxTitle, "steps", i, "title")
			ld.text(d, s.Body, true, MaxMessage, "steps", i, "body")
			if s.Topic != "" {
				if _, ok := l.topics[s.Topic]; !ok {
					ld.addf(d, d.line("steps", i, "topic"), "step %q names unknown topic %q", s.ID, s.Topic)
				}
			}
			if s.Day != 0 {
				if s.Day <= lastDay {
					ld.addf(d, d.line("steps", i, "day"), "step %q: days must increase (day %d after day %d)", s.ID, s.Day, lastDay)
				}
				lastDay = s.Day
			}
			for k, a := range s.Actions {
				ld.text(d, a, true, MaxTry, "steps", i, "actions", k)
			}
		}
		for name, m := range map[string]*Message{"review": j.Review, "finished": j.Finished, "stopped": j.Stopped} {
			if m != nil {
				ld.text(d, m.Title, true, MaxTitle, name, "title")
				ld.text(d, m.Body, true, MaxMessage, name, "body")
			}
		}
		for _, name := range sortedKeys(j.Endings) {
			m := j.Endings[name]
			ld.text(d, m.Title, true, MaxTitle, "endings", name, "title")
			ld.text(d, m.Body, true, MaxMessage, "endings", name, "body")
		}
		l.Journeys[j.ID] = &j
	}
}

func (ld *loader) loadCheckin(l *Library, file string) {
	var c Checkin
	d, ok := ld.decode(file, &c)
	if !ok {
		return
	}
	ld.text(d, c.Title, true, MaxTitle, "title")
	ld.text(d, c.Intro, true, MaxMessage, "intro")
	ld.text(d, c.NoteLabel, true, MaxTitle, "note_label")
	ld.text(d, c.NotePlaceholder, true, 150, "note_placeholder")
	ld.text(d, c.ActionLabel, true, MaxTitle, "action_label")
	ld.text(d, c.ActionPlaceholder, true, 150, "action_placeholder")
	ld.text(d, c.Thanks, true, MaxMessage, "thanks")
	seen := map[string]string{}
	for i, q := range c.Questions {
		ld.id(d, q.ID, "question", seen, "questions", i)
		ld.text(d, q.Text, true, MaxMessage, "questions", i, "text")
		if len(q.Choices) < 2 {
			ld.addf(d, d.line("questions", i), "question %q needs at least two choices", q.ID)
		}
		seenChoice := map[string]string{}
		for k, ch := range q.Choices {
			ld.id(d, ch.ID, "choice", seenChoice, "questions", i, "choices", k)
			ld.text(d, ch.Label, true, MaxLabel, "questions", i, "choices", k, "label")
		}
	}
	l.Checkin = &c
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func (ld *loader) loadUI(l *Library) {
	docs := map[trustbot.Lang]doc{}
	for _, lang := range trustbot.Langs {
		m := map[string]UIString{}
		d, ok := ld.decode("ui/"+string(lang)+".yaml", &m)
		if !ok {
			continue
		}
		docs[lang] = d
		for _, k := range sortedKeys(m) {
			v := m[k]
			for _, f := range sortedKeys(v.Forms) {
				ld.keep(d, d.line(k, f), string(lang), v.Forms[f])
			}
			if v.Forms != nil {
				ld.plural(d, k, v)
				continue
			}
			ld.keep(d, d.line(k), string(lang), v.Text)
			switch {
			case strings.TrimSpace(v.Text) == "":
				ld.addf(d, d.line(k), "%s is empty", k)
			case utf8.RuneCountInString(v.Text) > MaxUIString:
				ld.addf(d, d.line(k), "%s is over %d characters", k, MaxUIString)
			}
		}
		l.ui[lang] = m
	}
	ja, en := l.ui[trustbot.Japanese], l.ui[trustbot.English]
	if ja == nil || en == nil {
		return
	}
	for _, lang := range trustbot.Langs {
		ld.platformForms(docs[lang], l.ui[lang])
	}
	for _, pair := range []struct {
		lang        trustbot.Lang
		have, other map[string]UIString
	}{{trustbot.Japanese, ja, en}, {trustbot.English, en, ja}} {
		d := docs[pair.lang]
		for _, k := range sortedKeys(pair.have) {
			o, ok := pair.other[k]
			if !ok {
				ld.addf(d, d.line(k), "%s has no twin in the other language's catalog", k)
				continue
			}
			a, b := placeholders(pair.have[k]), placeholders(o)
			if pair.lang == trustbot.Japanese && !slices.Equal(a, b) {
				ld.addf(d, d.line(k), "%s: placeholders %v differ from the English %v", k, a, b)
			}
		}
	}
}

// otherPlatforms are the platforms a text may have a form of its own for;
// Slack's is the text itself.
var otherPlatforms = []trustbot.Platform{trustbot.Teams}

// platformForms checks the texts written for one platform (key +
// ".msteams"): each stands for a text of the same key without it, which
// the platform's users would otherwise read, and uses only the values the
// bot gives that text.
func (ld *loader) platformForms(d doc, m map[string]UIString) {
	for _, k := range sortedKeys(m) {
		for _, p := range otherPlatforms {
			base, ok := strings.CutSuffix(k, "."+string(p))
			if !ok {
				continue
			}
			b, found := m[base]
			if !found {
				ld.addf(d, d.line(k), "%s is the %s form of %s, which does not exist", k, p, base)
				continue
			}
			for _, ph := range placeholders(m[k]) {
				if !slices.Contains(placeholders(b), ph) {
					ld.addf(d, d.line(k), "%s: placeholder %s is not one of %s's %v", k, ph, base, placeholders(b))
				}
			}
		}
	}
}

// plural checks a string given as plural forms: one and other are both
// there, nothing else but zero, none empty, and other shows {count}, the
// number that chooses the form.
func (ld *loader) plural(d doc, k string, v UIString) {
	for _, f := range sortedKeys(v.Forms) {
		switch {
		case !slices.Contains(pluralForms, f):
			ld.addf(d, d.line(k, f), "%s: unknown plural form %q (use zero, one and other)", k, f)
		case strings.TrimSpace(v.Forms[f]) == "":
			ld.addf(d, d.line(k, f), "%s.%s is empty", k, f)
		case utf8.RuneCountInString(v.Forms[f]) > MaxUIString:
			ld.addf(d, d.line(k, f), "%s.%s is over %d characters", k, f, MaxUIString)
		}
	}
	for _, f := range []string{"one", "other"} {
		if _, ok := v.Forms[f]; !ok {
			ld.addf(d, d.line(k), "%s has plural forms but no %q: give both one and other", k, f)
		}
	}
	if o, ok := v.Forms["other"]; ok && !strings.Contains(o, "{count}") {
		ld.addf(d, d.line(k, "other"), "%s.other does not show {count}, the number that chooses the form", k)
	}
}

// placeholders returns the distinct placeholders of a string, across all
// its forms, sorted.
func placeholders(u UIString) []string {
	all := placeholder.FindAllString(u.Text, -1)
	for _, f := range u.Forms {
		all = append(all, placeholder.FindAllString(f, -1)...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
