package tone_test

import (
	"testing"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/playbooks"
)

// The targets of the check on the holdout drafts, per language: recall of
// repeat asks at least 0.95 and of every other kind of pressure at least
// 0.9, at most 5 % of clean drafts flagged, and no repeat ask answered
// with a way to ask.
const (
	targetRepeatRecall   = 0.95
	targetPressureRecall = 0.9
	targetCleanFlagged   = 0.05
)

// holdoutFloors are the figures the check has reached on the holdout
// where it is still short of a target: it may not fall below them. A floor
// at or above its target is an error: the target itself then holds. The
// labels were audited on 2026-12-01 against six readings the corpus README
// settled (every change added a label: 17 drafts, 15 repeat asks), then
// against four more (13 drafts); the floors were set again each time,
// from the same check on the audited labels, and raised after the rounds
// that followed and the learned part (2026-12-02). The ja repeat-ask
// floor fell by one draft (57 → 56 of 61) when batch twenty-eight, read
// by a round, joined the drafts the model is trained on (a batch that has
// been read cannot stay blind), and rose back two rounds later
// (docs/benchmarks.md).
var holdoutFloors = map[string]map[string]float64{
	"ja": {tone.RepeatAsk: 0.934},
	"en": {tone.RepeatAsk: 0.900},
}

// retiredFloors are the same for the retired part: the first holdout,
// tuned on since, and the fresh batches after it, each added to it before
// anything was tuned on it (one on 2026-11-30, twelve on 2026-12-01,
// forty-one on 2026-12-02: batch twenty-one, then batches twenty-two to
// thirty in four parts each). A floor is the figure measured on the
// part as it stood then, cut to three decimals, and raised where a later
// round lifted it: what the tuning reaches there is kept. Where a figure
// meets its target, the target itself holds. Every figure meets its target
// now, but only because the learned part is trained on this part.
var retiredFloors = map[string]map[string]float64{}

// TestHoldoutTargets measures the check on the holdout drafts (figures
// only: no draft is printed) and fails when a figure falls below its
// target or, where the target is not reached yet, below the floor reached.
func TestHoldoutTargets(t *testing.T) {
	checkTargets(t, playbook.Holdout, holdoutFloors)
}

func checkTargets(t *testing.T, split string, floorsOf map[string]map[string]float64) {
	l := library(t)
	samples, err := playbook.LoadCorpus(playbooks.FS, split)
	if err != nil {
		t.Fatal(err)
	}
	reports := tone.Evaluate(l.Tone.Detector, samples)
	if len(reports) != 2 {
		t.Fatalf("%d languages in the holdout, want ja and en", len(reports))
	}
	for _, r := range reports {
		floors := floorsOf[r.Lang]
		for _, f := range tone.Flags {
			if !tone.Pressure(f) {
				continue
			}
			target := targetPressureRecall
			if f == tone.RepeatAsk {
				target = targetRepeatRecall
			}
			c := r.Flags[f]
			if f != tone.Hinting && c.TP+c.FN == 0 {
				t.Errorf("%s %s: no holdout draft is labelled with it", r.Lang, f)
			}
			got := c.Recall()
			want := target
			if floor, ok := floors[f]; ok {
				if floor >= target {
					t.Errorf("%s %s: floor %.3f at or above the target %.2f: drop the floor", r.Lang, f, floor, target)
				}
				want = floor
			}
			switch {
			case got < want:
				t.Errorf("%s %s: recall %.3f (%d of %d), below %.3f", r.Lang, f, got, c.TP, c.TP+c.FN, want)
			case got < target:
				t.Logf("%s %s: recall %.3f, target %.2f not reached yet", r.Lang, f, got, target)
			}
		}
		got, want := r.CleanRate(), targetCleanFlagged
		if floor, ok := floors["clean-flagged"]; ok {
			if floor <= targetCleanFlagged {
				t.Errorf("%s clean drafts flagged: floor %.3f within the target %.2f: drop the floor", r.Lang, floor, targetCleanFlagged)
			}
			want = floor
		}
		switch {
		case got > want:
			t.Errorf("%s: %d of %d clean drafts flagged (%.3f), above %.3f", r.Lang, r.CleanFlagged, r.Clean, got, want)
		case got > targetCleanFlagged:
			t.Logf("%s: %.3f of clean drafts flagged, target %.2f not reached yet", r.Lang, got, targetCleanFlagged)
		}
		if n := l.Tone.AskedAfterNo(samples, r.Lang); n > 0 {
			t.Errorf("%s: %d repeat asks answered with a way to ask", r.Lang, n)
		}
	}
}
