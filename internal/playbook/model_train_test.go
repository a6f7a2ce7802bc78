//go:build !race

package playbook_test

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/internal/trustbot"
	"github.com/trustbot/trustbot/playbooks"
)

// TestToneModelUpToDate: the committed models of the tone check's learned
// part are what "playbooks tone-train" makes of the committed drafts, and
// a language with no threshold has none (make tone-model writes them
// again). Training takes a few seconds of CPU, many times that under the
// race detector: the test is built without -race only, and run by make
// test-tone, which CI runs.
func TestToneModelUpToDate(t *testing.T) {
	files, err := playbook.TrainToneModels(playbooks.FS, tone.DefaultTrainOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range trustbot.Langs {
		got, err := fs.ReadFile(playbooks.FS, playbook.ModelPath(lang))
		want, trained := files[lang]
		switch {
		case !trained && err == nil:
			t.Errorf("%s: %s is committed, but the language has no threshold: run make tone-model", lang, playbook.ModelPath(lang))
		case !trained:
		case err != nil:
			t.Errorf("%s: %v (make tone-model writes it)", lang, err)
		case !bytes.Equal(got, want):
			t.Errorf("%s: %s is not the trainer's output on the committed drafts: run make tone-model", lang, playbook.ModelPath(lang))
		}
	}
}
