package tone

import (
	"regexp"
	"regexp/syntax"
	"sync"
	"unicode/utf8"
)

// pattern is one compiled pattern with the literals that any match must
// contain: when none of them is in a draft, the expression is not run.
// Most patterns find nothing in most drafts, so this saves most of the
// work of a check.
type pattern struct {
	re   *regexp.Regexp
	lits []string // nil: no literal is required, always run
	ids  []int32  // the literals' IDs in the detector's index
}

// compiled keeps the patterns compiled in this process, by their source.
// A compiled pattern is read-only (a detector copies the slice before it
// numbers the literals), and compiling is half of loading the content,
// which a server does once but the tests do many times in one process.
var compiled sync.Map // string → []pattern

// compilePattern compiles p as one pattern per branch of its top-level
// alternation (a|b|c), each with its own literals, so that only the
// branches whose words are in a draft run. The caller must not change the
// patterns it returns.
func compilePattern(p string) ([]pattern, error) {
	if pts, ok := compiled.Load(p); ok {
		return pts.([]pattern), nil
	}
	// The parse is all of regexp.Compile that can fail.
	if _, err := syntax.Parse(p, syntax.Perl); err != nil {
		return nil, err
	}
	var out []pattern
	for _, branch := range splitTop(p) {
		re, err := regexp.Compile(branch)
		if err != nil {
			// A split the parser reads differently: keep the whole.
			out = compileWhole(p)
			break
		}
		pt := pattern{re: re}
		if tree, err := syntax.Parse(branch, syntax.Perl); err == nil {
			pt.lits = required(tree.Simplify())
		}
		out = append(out, pt)
	}
	compiled.Store(p, out)
	return out, nil
}

func compileWhole(p string) []pattern {
	pt := pattern{re: regexp.MustCompile(p)}
	if tree, err := syntax.Parse(p, syntax.Perl); err == nil {
		pt.lits = required(tree.Simplify())
	}
	return []pattern{pt}
}

// splitTop splits a pattern at the | that are outside groups and classes.
func splitTop(p string) []string {
	var out []string
	depth, start := 0, 0
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++ // a ] right after [ or [^ is a literal
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// may reports whether the pattern can match in a text whose literals
// (found by the detector's index) are seen.
func (p pattern) may(seen []bool) bool {
	if p.lits == nil {
		return true
	}
	for _, id := range p.ids {
		if seen[id] {
			return true
		}
	}
	return false
}

// maxLits bounds the literals kept for one pattern; beyond it the pattern
// is simply always run.
const maxLits = 200

// required returns a set of literals one of which every match of re
// contains, or nil when it finds none.
func required(re *syntax.Regexp) []string {
	if re.Flags&syntax.FoldCase != 0 {
		return nil
	}
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 16 || len(out) > 32 || hi > utf8.MaxRune {
				return nil
			}
			for r := lo; r <= hi; r++ {
				out = append(out, string(r))
			}
		}
		return out
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := required(sub)
			if l == nil {
				return nil
			}
			out = append(out, l...)
			if len(out) > maxLits {
				return nil
			}
		}
		return out
	case syntax.OpConcat:
		// Any part's literals will do: take the most selective, the one
		// whose shortest literal is longest.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			l := required(sub)
			if l == nil {
				continue
			}
			if n := shortest(l); n > bestLen || n == bestLen && len(l) < len(best) {
				best, bestLen = l, n
			}
		}
		return best
	}
	return nil
}

func shortest(ls []string) int {
	n := -1
	for _, l := range ls {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}
