package main

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
)

// toneEval runs "playbooks tone-eval": precision and recall of every flag
// per language on the train, dev, retired, fresh and holdout drafts of the corpus, the share of
// clean drafts flagged, and how many repeat asks would be answered with a
// way to ask.
func toneEval(e env) error {
	fs := e.flags("playbooks tone-eval", "The drafts are those of tone/corpus/ in the built-in content, or in DIR.\n--misses lists the train, dev or retired drafts whose flags differ from their labels;\nthe fresh batch and the holdout are only measured, never listed, so that\nnothing is tuned on them.")
	split := fs.String("split", "all", "train, dev, retired, fresh, holdout or all")
	misses := fs.Bool("misses", false, "list the train, dev or retired drafts the check gets wrong")
	rulesOnly := fs.Bool("rules-only", false, "measure the rules alone, without the learned part")
	if err := e.parse(fs); err != nil {
		return err
	}
	var splits []string
	switch *split {
	case "all":
		splits = []string{playbook.Train, playbook.Dev, playbook.Retired, playbook.Fresh, playbook.Holdout}
	case playbook.Train, playbook.Dev, playbook.Retired, playbook.Fresh, playbook.Holdout:
		splits = []string{*split}
	default:
		return usageErr("--split %q: use train, dev, retired, fresh, holdout or all", *split)
	}
	if *misses && (slices.Contains(splits, playbook.Holdout) || slices.Contains(splits, playbook.Fresh)) {
		return usageErr("--misses lists train, dev or retired drafts only: add --split train, dev or retired")
	}
	fsys, _, err := contentFS(fs.Args())
	if err != nil {
		return err
	}
	lib, err := loadForTone(e, fsys)
	if err != nil {
		return err
	}
	if *rulesOnly {
		lib.Tone.Detector = lib.Tone.Detector.RulesOnly()
	}
	for _, sp := range splits {
		samples, err := playbook.LoadCorpus(fsys, sp)
		if err != nil {
			return err
		}
		if len(samples) == 0 {
			// A part between batches (the fresh one, once measured, is
			// retired before the next is written) says so.
			fmt.Fprintf(e.stdout, "%s: no drafts\n\n", sp)
			continue
		}
		for _, r := range tone.Evaluate(lib.Tone.Detector, samples) {
			printToneReport(e, sp, r, lib.Tone.AskedAfterNo(samples, r.Lang))
			if *misses {
				for _, m := range r.Misses {
					fmt.Fprintf(e.stdout, "  %s: got %v, want %v\n      %s\n", m.Sample.Where, m.Got, m.Sample.Labels, m.Sample.Text)
				}
			}
		}
	}
	return nil
}

func printToneReport(e env, split string, r tone.Report, askedAfterNo int) {
	w := e.stdout
	fmt.Fprintf(w, "%s %s: %d drafts, %d clean\n", split, r.Lang, r.Drafts, r.Clean)
	fmt.Fprintf(w, "  %-12s %8s %7s %10s %7s\n", "flag", "labelled", "raised", "precision", "recall")
	for _, f := range tone.Flags {
		c := r.Flags[f]
		fmt.Fprintf(w, "  %-12s %8d %7d %10.3f %7.3f\n", f, c.TP+c.FN, c.TP+c.FP, c.Precision(), c.Recall())
	}
	fmt.Fprintf(w, "  clean drafts flagged: %d of %d (%.1f%%)\n", r.CleanFlagged, r.Clean, 100*r.CleanRate())
	fmt.Fprintf(w, "  repeat asks answered with a way to ask: %d\n\n", askedAfterNo)
}

// toneCheck runs "playbooks tone-check": every cue found in a draft, and
// the flags raised with their evidence.
func toneCheck(e env) error {
	fs := e.flags("playbooks tone-check", "Prints the draft as normalized, sentence by sentence, every cue found,\nthe flags raised with their evidence and the situations the reply offers.")
	dir := fs.String("dir", "", "read the content from DIR instead of the embedded one")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("tone-check needs a draft")
	}
	var args []string
	if *dir != "" {
		args = []string{*dir}
	}
	fsys, _, err := contentFS(args)
	if err != nil {
		return err
	}
	lib, err := loadForTone(e, fsys)
	if err != nil {
		return err
	}
	draft := strings.Join(fs.Args(), " ")
	w := e.stdout
	for i, s := range tone.Sentences(lib.Tone.Normalize(draft)) {
		fmt.Fprintf(w, "[%d] %s\n", i, s)
	}
	res := lib.Tone.Check(draft)
	for _, h := range res.Hits {
		fmt.Fprintf(w, "  cue %-9s [%d] %q (written %q)\n", h.Cue, h.Sentence, h.Norm, h.Text)
	}
	for _, f := range res.Flags {
		var ev []string
		for _, h := range f.Evidence {
			ev = append(ev, h.Cue+":"+h.Text)
		}
		fmt.Fprintf(w, "flag %s  (%s)\n", f.ID, strings.Join(ev, ", "))
	}
	fmt.Fprintf(w, "offers: %v\n", lib.Tone.Offers(res))
	return nil
}

// loadForTone loads the content for measuring the tone check: problems
// elsewhere (a failing example while tuning) are reported, not fatal.
func loadForTone(e env, fsys fs.FS) (*playbook.Library, error) {
	lib, problems := playbook.LoadAnyway(fsys)
	if len(problems) > 0 {
		fmt.Fprintf(e.stderr, "(the content has %d problem(s): see playbooks lint)\n", len(problems))
	}
	if lib.Tone == nil || lib.Tone.Detector == nil {
		return nil, fmt.Errorf("%w: tone/rules.yaml cannot be read", errProblems)
	}
	return lib, nil
}
