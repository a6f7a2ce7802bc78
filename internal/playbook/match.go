package playbook

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words is a list of words in every language, keyed by language code: the
// aliases people may type for a topic or a situation.
type Words map[string][]string

// A name is one way to call a topic or situation (its ID, a title, an
// alias), folded for matching: compact has no separators, spaced has one
// space between words.
type name struct {
	compact, spaced string
	runes           int
	latin           bool // only ASCII letters and digits: matched as whole words
	id              string
}

// nameIndex finds topics or situations by what people type.
type nameIndex []name

// separators split words in names and queries; they are ignored when
// comparing, so "cooling off", "cooling-off" and "ｃｏｏｌｉｎｇ－ｏｆｆ"
// are one name.
func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == '・'
}

// Fold makes a name or a query comparable: full-width letters and digits
// become half-width, half-width katakana full-width, letters lower case,
// and punctuation a single space.
func Fold(s string) string {
	return strings.Join(strings.FieldsFunc(FoldDraft(s), isSeparator), " ")
}

func newName(s, id string) name {
	spaced := Fold(s)
	compact := strings.ReplaceAll(spaced, " ", "")
	latin := compact != ""
	for _, r := range compact {
		if r > unicode.MaxASCII {
			latin = false
			break
		}
	}
	return name{compact: compact, spaced: spaced, runes: utf8.RuneCountInString(compact), latin: latin, id: id}
}

// containsWords reports whether the words of n appear in q as whole words.
func containsWords(q, n string) bool {
	return strings.Contains(" "+q+" ", " "+n+" ")
}

// find returns the IDs that query names, best first, in index order:
//
//  1. a name equal to the query;
//  2. else the longest names found inside the query ("LINE断られた" holds
//     "断られた"), Latin names only as whole words;
//  3. else the names that contain the query ("cool" is in "cooling");
//  4. else the names within a typo or two of the query ("managr").
//
// More than one ID means the query is ambiguous; none, that it is unknown.
func (ix nameIndex) find(query string) []string {
	q := newName(query, "")
	if q.compact == "" {
		return nil
	}
	var out []string
	add := func(id string) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, n := range ix {
		if n.compact == q.compact {
			add(n.id)
		}
	}
	if len(out) > 0 {
		return out
	}
	best := 0
	for _, n := range ix {
		if n.runes < 2 || n.runes < best {
			continue
		}
		in := strings.Contains(q.compact, n.compact)
		if n.latin {
			in = containsWords(q.spaced, n.spaced)
		}
		if !in {
			continue
		}
		if n.runes > best {
			best, out = n.runes, out[:0]
		}
		add(n.id)
	}
	if len(out) > 0 {
		return out
	}
	if q.runes >= 3 || !q.latin && q.runes >= 2 {
		for _, n := range ix {
			if strings.Contains(n.compact, q.compact) {
				add(n.id)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	if q.runes < 4 {
		return nil
	}
	bestDist := -1
	for _, n := range ix {
		if n.runes < 4 {
			continue
		}
		d := Distance(q.compact, n.compact)
		if d > max(1, n.runes/4) || bestDist >= 0 && d > bestDist {
			continue
		}
		if d < bestDist || bestDist < 0 {
			bestDist, out = d, out[:0]
		}
		add(n.id)
	}
	return out
}

// FindTopics returns the topics that query names: by ID, title or alias
// in either language, loosely (see the order in nameIndex.find). One
// topic is a match, several are ambiguous, none is unknown.
func (l *Library) FindTopics(query string) []*Topic {
	var out []*Topic
	for _, id := range l.topicNames.find(query) {
		out = append(out, l.topics[id])
	}
	slices.SortStableFunc(out, func(a, b *Topic) int { return a.Order - b.Order })
	return out
}

// SuggestTopics returns the topics to offer someone typing query in a
// topic menu, best first: every topic when nothing is typed; else those
// FindTopics names, then those with a name (ID, title or alias, in either
// language) that begins with or contains what is typed, however short,
// each once and in the library's order within each group.
func (l *Library) SuggestTopics(query string) []*Topic {
	q := newName(query, "").compact
	if q == "" {
		return l.Topics
	}
	out := l.FindTopics(query)
	for _, prefix := range []bool{true, false} {
		var more []*Topic
		for _, n := range l.topicNames {
			tp := l.topics[n.id]
			hit := strings.HasPrefix(n.compact, q)
			if !prefix {
				hit = strings.Contains(n.compact, q)
			}
			if hit && !slices.Contains(out, tp) && !slices.Contains(more, tp) {
				more = append(more, tp)
			}
		}
		slices.SortStableFunc(more, func(a, b *Topic) int { return a.Order - b.Order })
		out = append(out, more...)
	}
	return out
}

// FindSituations returns the situations that query names, like FindTopics.
func (l *Library) FindSituations(query string) []*Situation {
	var out []*Situation
	for _, id := range l.situationNames.find(query) {
		out = append(out, l.situations[id])
	}
	slices.SortStableFunc(out, func(a, b *Situation) int { return a.Order - b.Order })
	return out
}

// TopicNamed returns the topic whose ID, title or alias is exactly word,
// once folded: for lists of topics typed one word at a time.
func (l *Library) TopicNamed(word string) (*Topic, bool) {
	k := newName(word, "").compact
	for _, n := range l.topicNames {
		if k != "" && n.compact == k {
			return l.topics[n.id], true
		}
	}
	return nil, false
}

// Distance is the optimal string alignment distance between a and b, in
// characters: insertions, deletions, substitutions and swaps of two
// neighbours ("tpi" for "tip") each count one.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb))
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
