package tone

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The learned part: per language, a logistic regression for each flag of
// pressure over the runs of words in the draft as the rules normalize it
// (Japanese: runs of one to three characters; English: one to three words
// or marks in a row), trained by TrainModel on the labelled corpus. It
// adds a flag the rules did not raise when the flag's probability reaches
// the model's threshold, and names the user's words that weighed most
// toward it, under the cue CueLearned. It never takes a flag away: what
// the rules say stands, and what they miss in wording never seen may
// still be caught by how drafts of that kind are worded.

// CueLearned names the evidence of a flag the learned part added: not a
// cue the content gives patterns for.
const CueLearned = "learned"

// FeatureVersion names the reading of drafts into features below; a model
// is only used with the reading it was trained on.
const FeatureVersion = "ja:chars1-3,en:tokens1-3;v2"

// LearnedFlags are the flags the learned part may add, in the order of a
// model's weights.
var LearnedFlags = []string{RepeatAsk, ReasonAsk, Demand, Rush, Guilt, NoWayOut}

// Model is the learned part of one language, as stored in the content
// (tone/model-ja.json, tone/model-en.json).
type Model struct {
	Lang      string  `json:"lang"`
	Features  string  `json:"features"`
	Threshold float64 `json:"threshold"`
	// Flags names what each place of Bias and of a weight is for.
	Flags   []string             `json:"flags"`
	Bias    []float64            `json:"bias"`
	Weights map[string][]float64 `json:"weights"` // feature → weight per flag
}

// SetModels gives the detector the learned part (none: the rules alone).
// A model read with other features, or whose flags are not LearnedFlags,
// is left out; the second result names the languages left out so.
func (d *Detector) SetModels(models ...*Model) (left []string) {
	d.models = nil
	for _, m := range models {
		if m == nil || m.Features != FeatureVersion || !slices.Equal(m.Flags, LearnedFlags) || len(m.Bias) != len(LearnedFlags) {
			if m != nil {
				left = append(left, m.Lang)
			}
			continue
		}
		if d.models == nil {
			d.models = map[string]*Model{}
		}
		d.models[m.Lang] = m
	}
	return left
}

// HasModel reports whether the detector uses a learned part.
func (d *Detector) HasModel() bool { return len(d.models) > 0 }

// RulesOnly returns a detector that reads drafts by the rules alone,
// without the learned part (to measure one against the other).
func (d *Detector) RulesOnly() *Detector {
	c := *d
	c.models = nil
	return &c
}

// langOf tells the model a draft is read by: Japanese when it holds kana
// or kanji, else English.
func langOf(s string) string {
	for _, r := range s {
		if r >= 0x3040 && r <= 0x30ff || unicode.Is(unicode.Han, r) {
			return "ja"
		}
	}
	return "en"
}

// gram is one feature of a draft and where its words are in the
// normalized text.
type gram struct {
	name   string
	lo, hi int
}

// grams reads the normalized text s (of language lang) into its features,
// each once, where first found.
func grams(s, lang string) []gram {
	s = foldKana(s)
	var toks [][2]int // byte spans of the units runs are made of
	if lang == "ja" {
		for i, r := range s {
			if !unicode.IsSpace(r) {
				toks = append(toks, [2]int{i, i + utf8.RuneLen(r)})
			} else {
				toks = append(toks, [2]int{-1, -1}) // a space breaks a run
			}
		}
	} else {
		start := -1
		for i, r := range s + " " {
			word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\''
			if start >= 0 && !word {
				toks = append(toks, [2]int{start, i})
				start = -1
			}
			switch {
			case word && start < 0:
				start = i
			case !word && !unicode.IsSpace(r):
				toks = append(toks, [2]int{i, i + utf8.RuneLen(r)})
			}
		}
	}
	var out []gram
	seen := map[string]bool{}
	for a := range toks {
		for n := 1; n <= 3 && a+n <= len(toks); n++ {
			if toks[a+n-1][0] < 0 {
				break
			}
			var name string
			if lang == "ja" {
				name = s[toks[a][0]:toks[a+n-1][1]]
			} else {
				parts := make([]string, n)
				for k := range n {
					parts[k] = s[toks[a+k][0]:toks[a+k][1]]
				}
				name = strings.Join(parts, " ")
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, gram{name: name, lo: toks[a][0], hi: toks[a+n-1][1]})
			}
		}
	}
	return out
}

// scale evens out long and short drafts: a draft's score is its weights'
// sum over the square root of how many features it holds.
func scale(n int) float64 { return 1 / math.Sqrt(float64(n+1)) }

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// scores returns the probability of each of the model's flags.
func (m *Model) scores(gs []gram) []float64 {
	z := slices.Clone(m.Bias)
	sc := scale(len(gs))
	for _, g := range gs {
		for k, w := range m.Weights[g.name] {
			z[k] += w * sc
		}
	}
	for k := range z {
		z[k] = sigmoid(z[k])
	}
	return z
}

// maxLearnedEvidence is how many runs of the user's words a learned flag
// names, joined from the maxLearnedRuns features that weighed most.
const (
	maxLearnedEvidence = 3
	maxLearnedRuns     = 8
)

// learn adds the flags the learned part raises to the rules' flags.
func (d *Detector) learn(draft string, m mapped, flags []Flag) []Flag {
	if d.models == nil {
		return flags
	}
	lang := langOf(m.s)
	mod := d.models[lang]
	if mod == nil {
		return flags
	}
	gs := grams(m.s, lang)
	added := false
	for k, p := range mod.scores(gs) {
		id := mod.Flags[k]
		if p < mod.Threshold || slices.ContainsFunc(flags, func(f Flag) bool { return f.ID == id }) {
			continue
		}
		if ev := mod.evidence(draft, m, gs, k); len(ev) > 0 {
			flags = append(flags, Flag{ID: id, Evidence: ev})
			added = true
		}
	}
	if added {
		slices.SortStableFunc(flags, func(a, b Flag) int { return slices.Index(Flags, a.ID) - slices.Index(Flags, b.ID) })
	}
	return flags
}

// evidence returns the user's words that weighed most toward flag k, as
// the user wrote them: the runs of the draft with the most weight toward
// it (maxLearnedRuns of them), joined where they overlap or touch, the
// heaviest first.
func (m *Model) evidence(draft string, mp mapped, gs []gram, k int) []Hit {
	type run struct {
		lo, hi int
		w      float64
	}
	var rs []run
	for _, g := range gs {
		if w := m.Weights[g.name]; len(w) > k && w[k] > 0 && strings.TrimFunc(g.name, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
		}) != "" {
			rs = append(rs, run{g.lo, g.hi, w[k]})
		}
	}
	slices.SortStableFunc(rs, func(a, b run) int { return cmp.Compare(b.w, a.w) })
	rs = rs[:min(len(rs), maxLearnedRuns)]
	slices.SortStableFunc(rs, func(a, b run) int { return cmp.Compare(a.lo, b.lo) })
	var joined []run
	for _, r := range rs {
		if n := len(joined); n > 0 && r.lo <= joined[n-1].hi {
			joined[n-1].hi = max(joined[n-1].hi, r.hi)
			joined[n-1].w += r.w
			continue
		}
		joined = append(joined, r)
	}
	slices.SortStableFunc(joined, func(a, b run) int { return cmp.Compare(b.w, a.w) })
	var out []Hit
	for _, r := range joined[:min(len(joined), maxLearnedEvidence)] {
		if text := written(draft, mp, r.lo, r.hi); text != "" {
			out = append(out, Hit{Cue: CueLearned, Norm: mp.s[r.lo:r.hi], Text: text, Sentence: -1})
		}
	}
	return out
}
