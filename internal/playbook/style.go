package playbook

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// Style is style.yaml: one spelling for words that vary, and how often one
// ending may close the tips.
type Style struct {
	Notation []*Notation `yaml:"notation"`
	Endings  Endings     `yaml:"endings"`
}

// Notation is one word written one way: in texts of Lang, a match of an
// Avoid pattern is a problem, unless it lies inside a match of an Allow
// pattern (方 as a person or a way of doing, not a comparison).
type Notation struct {
	Use   string   `yaml:"use"`
	Lang  string   `yaml:"lang"`
	Avoid []string `yaml:"avoid"`
	Allow []string `yaml:"allow"`

	avoid, allow []*regexp.Regexp
	lits         []string // per avoid pattern: see requiredLiteral
	line         int
}

// Endings limits the share of tips whose field (body or try) ends with
// any one of the Watch patterns, per language.
type Endings struct {
	MaxShare float64             `yaml:"max_share"`
	Fields   []string            `yaml:"fields"`
	Watch    map[string][]string `yaml:"watch"`
}

// textAt is one text of the content, where a writer would fix it.
type textAt struct {
	file string
	line int
	lang string
	text string
}

// keep remembers a text for the style checks. The tone rules are left
// out: their patterns and drafts spell words the way people type them.
func (ld *loader) keep(d doc, line int, lang, s string) {
	if strings.HasPrefix(d.file, "tone/") {
		return
	}
	ld.texts = append(ld.texts, textAt{d.file, line, lang, s})
}

func compileAll(patterns []string, suffix string) ([]*regexp.Regexp, []error) {
	var out []*regexp.Regexp
	var errs []error
	for _, p := range patterns {
		re, err := regexp.Compile("(?:" + p + ")" + suffix)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern %q: %v", p, err))
			continue
		}
		out = append(out, re)
	}
	return out, errs
}

func (ld *loader) loadStyle() *Style {
	var st Style
	d, ok := ld.decode("style.yaml", &st)
	if !ok {
		return nil
	}
	ld.style = d
	for i, n := range st.Notation {
		if n == nil {
			ld.addf(d, d.line("notation", i), "empty notation entry")
			continue
		}
		n.line = d.line("notation", i, "use")
		if strings.TrimSpace(n.Use) == "" {
			ld.addf(d, n.line, "notation entry has no use: the spelling to write")
		}
		if _, ok := trustbot.ParseLang(n.Lang); !ok || len(n.Lang) != 2 {
			ld.addf(d, d.line("notation", i, "lang"), "notation %q: lang %q: use ja or en", n.Use, n.Lang)
		}
		if len(n.Avoid) == 0 {
			ld.addf(d, d.line("notation", i), "notation %q has nothing to avoid", n.Use)
		}
		var errs, more []error
		n.avoid, errs = compileAll(n.Avoid, "")
		n.allow, more = compileAll(n.Allow, "")
		n.lits = n.lits[:0]
		for _, re := range n.avoid {
			n.lits = append(n.lits, requiredLiteral(re))
		}
		for _, err := range append(errs, more...) {
			ld.addf(d, d.line("notation", i), "notation %q: %v", n.Use, err)
		}
	}
	e := st.Endings
	if e.MaxShare <= 0 || e.MaxShare > 1 {
		ld.addf(d, d.line("endings", "max_share"), "endings.max_share %v: give a share between 0 and 1", e.MaxShare)
	}
	for i, f := range e.Fields {
		if f != "body" && f != "try" {
			ld.addf(d, d.line("endings", "fields", i), "endings.fields: %q is not a tip field (body or try)", f)
		}
	}
	for lang, ps := range e.Watch {
		if _, ok := trustbot.ParseLang(lang); !ok || len(lang) != 2 {
			ld.addf(d, d.line("endings", "watch", lang), "endings.watch: unknown language %q", lang)
		}
		if _, errs := compileAll(ps, `\s*$`); len(errs) > 0 {
			for _, err := range errs {
				ld.addf(d, d.line("endings", "watch", lang), "endings.watch: %v", err)
			}
		}
	}
	return &st
}

// checkNotation reports every spelling the notation table asks to avoid,
// at its file and line. An avoid pattern runs on a text only when the
// text holds the literal every match of the pattern contains (a match in
// the masked text holds it too, and masking only turns bytes into NUL).
func (ld *loader) checkNotation(st *Style) {
	var run []*regexp.Regexp
	for _, t := range ld.texts {
		for _, n := range st.Notation {
			if n == nil || n.Lang != t.lang {
				continue
			}
			run = run[:0]
			for i, re := range n.avoid {
				if n.lits[i] == "" || strings.Contains(t.text, n.lits[i]) {
					run = append(run, re)
				}
			}
			if len(run) == 0 {
				continue
			}
			s := t.text
			for _, re := range n.allow {
				s = re.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat("\x00", len(m)) })
			}
			for _, re := range run {
				if m := re.FindString(s); m != "" {
					ld.problems = append(ld.problems, Problem{File: t.file, Line: t.line,
						Msg: fmt.Sprintf("notation: write %s, not %q (style.yaml:%d)", n.Use, m, n.line)})
					break
				}
			}
		}
	}
}

// requiredLiteral is a string every match of re contains, as written (no
// case folding), or "" when it finds none.
func requiredLiteral(re *regexp.Regexp) string {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return ""
	}
	return literalIn(tree.Simplify())
}

func literalIn(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, 0) {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return literalIn(re.Sub[0])
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := literalIn(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// checkEndings warns when one ending closes more than the allowed share of
// the tips' bodies or try lines in a language: read a few a week, the same
// close makes the tips sound like a form.
func (ld *loader) checkEndings(st *Style, l *Library) {
	e := st.Endings
	if e.MaxShare <= 0 {
		return
	}
	for _, field := range e.Fields {
		for _, lang := range sortedKeys(e.Watch) {
			var texts []string
			var where []string
			for _, tip := range l.Tips() {
				var t Text
				switch field {
				case "body":
					t = tip.Body
				case "try":
					t = tip.Try
				}
				if s := t[lang]; s != "" {
					texts = append(texts, s)
					where = append(where, tip.ID)
				}
			}
			if len(texts) == 0 {
				continue
			}
			res, _ := compileAll(e.Watch[lang], `\s*$`)
			for i, re := range res {
				var hits []string
				for k, s := range texts {
					if re.MatchString(s) {
						hits = append(hits, where[k])
					}
				}
				share := float64(len(hits)) / float64(len(texts))
				if share > e.MaxShare {
					ld.problems = append(ld.problems, Problem{File: ld.style.file, Line: ld.style.line("endings", "watch", lang, i), Warn: true,
						Msg: fmt.Sprintf("%s: %q ends %d of %d tips' %s (%.0f%%), over the %.0f%% allowed: vary some, such as %s",
							lang, e.Watch[lang][i], len(hits), len(texts), field, 100*share, 100*e.MaxShare, strings.Join(hits[:min(3, len(hits))], ", "))})
				}
			}
		}
	}
}
