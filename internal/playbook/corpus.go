package playbook

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// Splits of the tone corpus: the check is tuned on train, checked while
// tuning on dev (whose misses are read for what they share, never fixed one
// by one), and measured on holdout, which is never read while tuning.
// Fresh is a batch written before a round of work and measured before and
// after it: neither the rules nor the learned model are tuned or trained on
// it, and it may be empty between two batches. Retired is the first
// holdout, read too often to stay one, and each fresh batch once measured:
// it is tuned on like dev.
const (
	Train   = "train"
	Dev     = "dev"
	Retired = "retired"
	Fresh   = "fresh"
	Holdout = "holdout"
)

// ErrNoCorpus is returned for a split that has no file in any language.
var ErrNoCorpus = errors.New("no tone corpus")

// CorpusDraft is one labelled draft of the tone corpus.
type CorpusDraft struct {
	Text   string   `yaml:"text"`
	Labels []string `yaml:"labels"`
}

// CorpusPath is where the drafts of one language and split live.
func CorpusPath(lang trustbot.Lang, split string) string {
	return "tone/corpus/" + string(lang) + "-" + split + ".yaml"
}

// LoadCorpus reads one split of the tone corpus, every language that has a
// file for it, as samples for tone.Evaluate. A split with no file at all
// is an error; so is a draft without text or with an unknown label.
func LoadCorpus(fsys fs.FS, split string) ([]tone.Sample, error) {
	ld := &loader{fsys: fsys}
	var out []tone.Sample
	files := 0
	for _, lang := range trustbot.Langs {
		file := CorpusPath(lang, split)
		if _, err := fs.Stat(fsys, file); err != nil {
			continue
		}
		files++
		var c struct {
			Drafts []CorpusDraft `yaml:"drafts"`
		}
		d, ok := ld.decode(file, &c)
		if !ok {
			continue
		}
		for i, dr := range c.Drafts {
			line := d.line("drafts", i)
			if strings.TrimSpace(dr.Text) == "" {
				ld.addf(d, line, "draft has no text")
			}
			for _, l := range dr.Labels {
				if !slices.Contains(tone.Flags, l) {
					ld.addf(d, line, "unknown label %q (labels: %s)", l, strings.Join(tone.Flags, ", "))
				}
			}
			out = append(out, tone.Sample{Lang: string(lang), Text: dr.Text, Labels: dr.Labels, Where: fmt.Sprintf("%s:%d", file, line)})
		}
	}
	if files == 0 {
		return nil, fmt.Errorf("%w for the %s split (%s)", ErrNoCorpus, split, CorpusPath("*", split))
	}
	if len(ld.problems) > 0 {
		return nil, &LintError{Problems: ld.problems}
	}
	return out, nil
}
