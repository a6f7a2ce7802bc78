package playbook

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
)

// ModelPath is where the tone check's learned part of one language lives
// (written by "trustbot playbooks tone-train"). A language without one is
// read by the rules alone.
func ModelPath(lang trustbot.Lang) string { return "tone/model-" + string(lang) + ".json" }

// loadModels gives the detector the learned part of each language whose
// model the content holds.
func (ld *loader) loadModels(t *Tone) {
	if t.Detector == nil {
		return
	}
	var models []*tone.Model
	for _, lang := range trustbot.Langs {
		file := ModelPath(lang)
		b, err := fs.ReadFile(ld.fsys, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		d := doc{file: file}
		if err != nil {
			ld.addf(d, 0, "cannot read: %v", err)
			continue
		}
		m, err := decodeModel(b)
		if err != nil {
			ld.addf(d, 0, "%v", err)
			continue
		}
		if m.Lang != string(lang) {
			ld.addf(d, 0, "a model of language %q in the file of %s", m.Lang, lang)
			continue
		}
		models = append(models, m)
	}
	for _, lang := range t.Detector.SetModels(models...) {
		ld.addf(doc{file: ModelPath(trustbot.Lang(lang))}, 0, "the model was trained with other features or flags than the check reads (%s): train it again (make tone-model)", tone.FeatureVersion)
	}
	if t.Detector.HasModel() {
		for _, lang := range trustbot.Langs {
			if t.LearnedName[string(lang)] == "" {
				ld.addf(doc{file: "tone/rules.yaml"}, 0, "learned_name has no %s text: the learned part's evidence needs a name", lang)
			}
		}
	}
}

// decoded holds every model file decoded in this process, by its SHA-256:
// a model is read-only once decoded, and the tests load the content many
// times in one process. A server loads its content once, so it holds
// one entry a language.
var decoded sync.Map // [sha256.Size]byte → *tone.Model

func decodeModel(b []byte) (*tone.Model, error) {
	key := sha256.Sum256(b)
	if m, ok := decoded.Load(key); ok {
		return m.(*tone.Model), nil
	}
	m, err := tone.DecodeModel(b)
	if err != nil {
		return nil, err
	}
	decoded.Store(key, m)
	return m, nil
}

// Phrasings returns every phrasing of the content in lang, polite and
// casual, in the order of the situations: drafts trustbot suggests
// sending, which the tone check must leave unflagged.
func (l *Library) Phrasings(lang trustbot.Lang) []string {
	var out []string
	for _, s := range l.Situations {
		for _, p := range s.Phrasings {
			for _, t := range []Text{p.Polite, p.Casual} {
				if v := t[string(lang)]; v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// TrainToneModels trains the tone check's learned part on the content
// fsys: the train, dev and retired drafts of its corpus (never the fresh
// batch or the holdout) and the examples it must always get right, with
// its phrasings as clean drafts, read by its rules' normalization. It returns the model file of each language
// opt gives a threshold for, as it is written into the content.
func TrainToneModels(fsys fs.FS, opt tone.TrainOptions) (map[trustbot.Lang][]byte, error) {
	lib, problems := LoadAnyway(fsys)
	if lib.Tone == nil || lib.Tone.Detector == nil {
		return nil, fmt.Errorf("tone/rules.yaml cannot be read (%d problems)", len(problems))
	}
	var samples []tone.Sample
	for _, split := range []string{Train, Dev, Retired} {
		s, err := LoadCorpus(fsys, split)
		if err != nil {
			return nil, err
		}
		samples = append(samples, s...)
	}
	for _, e := range lib.Examples {
		samples = append(samples, tone.Sample{Lang: e.Lang, Text: e.Draft, Labels: e.Flags})
	}
	files := map[trustbot.Lang][]byte{}
	for _, lang := range trustbot.Langs {
		if _, ok := opt.Threshold[string(lang)]; !ok {
			continue
		}
		m := tone.TrainModel(lib.Tone.Detector, string(lang), samples, lib.Phrasings(lang), opt)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		files[lang] = append(b, '\n')
	}
	return files, nil
}
