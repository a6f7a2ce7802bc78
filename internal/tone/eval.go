package tone

import (
	"slices"
)

// Sample is a draft with the flags a careful reader gave it.
type Sample struct {
	Lang   string
	Text   string
	Labels []string
	Where  string // file:line, for the misses
}

// Count is the tally of one flag over samples.
type Count struct{ TP, FP, FN int }

// Precision is the share of raised flags that were labelled; 1 when none
// was raised.
func (c Count) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is the share of labelled flags that were raised; 1 when none was
// labelled.
func (c Count) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// Miss is a sample whose flags differ from its labels.
type Miss struct {
	Sample Sample
	Got    []string
}

// Report is the evaluation of the samples of one language.
type Report struct {
	Lang   string
	Drafts int
	Flags  map[string]Count // by flag ID, every flag in Flags
	// Clean counts the drafts labelled with no flag of pressure;
	// CleanFlagged those of them the check raised one on.
	Clean, CleanFlagged int
	Misses              []Miss
}

// CleanRate is the share of clean drafts the check flagged.
func (r Report) CleanRate() float64 {
	if r.Clean == 0 {
		return 0
	}
	return float64(r.CleanFlagged) / float64(r.Clean)
}

// Evaluate runs the check on every sample and tallies, per language (in
// the order first seen), each flag against the labels.
func Evaluate(d *Detector, samples []Sample) []Report {
	var reports []*Report
	byLang := map[string]*Report{}
	for _, s := range samples {
		r := byLang[s.Lang]
		if r == nil {
			r = &Report{Lang: s.Lang, Flags: map[string]Count{}}
			for _, f := range Flags {
				r.Flags[f] = Count{}
			}
			byLang[s.Lang] = r
			reports = append(reports, r)
		}
		r.Drafts++
		res := d.Check(s.Text)
		got := res.IDs()
		for _, f := range Flags {
			c := r.Flags[f]
			want, have := slices.Contains(s.Labels, f), slices.Contains(got, f)
			switch {
			case want && have:
				c.TP++
			case have:
				c.FP++
			case want:
				c.FN++
			}
			r.Flags[f] = c
		}
		if !slices.ContainsFunc(s.Labels, Pressure) {
			r.Clean++
			if res.Pressured() {
				r.CleanFlagged++
			}
		}
		if !slices.Equal(got, slices.Sorted(slices.Values(s.Labels))) {
			r.Misses = append(r.Misses, Miss{Sample: s, Got: got})
		}
	}
	out := make([]Report, len(reports))
	for i, r := range reports {
		out[i] = *r
	}
	return out
}
