package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// toneTrain runs "playbooks tone-train [DIR]": it trains the tone check's
// learned part on the train, dev and retired drafts of DIR's corpus (never
// the fresh batch or the holdout) and its examples, with the content's
// phrasings as clean drafts, and writes tone/model-<lang>.json into DIR
// for each language with a threshold.
func toneTrain(e env) error {
	fs := e.flags("playbooks tone-train", "DIR is the content folder (default playbooks); the models are written into DIR/tone/.\nTraining is deterministic: the same drafts give the same files.")
	opt := tone.DefaultTrainOptions
	threshold := fs.Float64("threshold", 0, "the probability at which the model adds a flag, in both languages (default: each language's own, "+fmt.Sprint(opt.Threshold)+")")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *threshold != 0 {
		if *threshold <= 0 || *threshold >= 1 {
			return usageErr("--threshold %v: use a probability between 0 and 1", *threshold)
		}
		opt.Threshold = map[string]float64{}
		for _, lang := range trustbot.Langs {
			opt.Threshold[string(lang)] = *threshold
		}
	}
	dir := "playbooks"
	switch fs.NArg() {
	case 0:
	case 1:
		dir = fs.Arg(0)
	default:
		return usageErr("at most one folder")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("%s is not a folder", dir)
	}
	files, err := playbook.TrainToneModels(os.DirFS(dir), opt)
	if err != nil {
		return err
	}
	for _, lang := range trustbot.Langs {
		path := filepath.Join(dir, filepath.FromSlash(playbook.ModelPath(lang)))
		b, ok := files[lang]
		if !ok {
			continue // a language with no threshold has no model
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", path, len(b))
	}
	return nil
}
