package tone

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// testModel is a Japanese model that weighs また and 今度 toward a repeat
// ask, and nothing toward anything else.
func testModel() *Model {
	w := func(repeat float64) []float64 { return []float64{repeat, 0, 0, 0, 0, 0} }
	return &Model{
		Lang: "ja", Features: FeatureVersion, Threshold: 0.8, Flags: slices.Clone(LearnedFlags),
		Bias:    []float64{-2, -5, -5, -5, -5, -5},
		Weights: map[string][]float64{"また": w(30), "今度": w(10), "じゃあ": w(5)},
	}
}

// TestLearnedPartAddsAFlagNamingTheWords: a flag the model is sure of is
// added where the rules raise nothing, naming the user's words as written
// (katakana and full width kept); below the threshold, in another
// language, or with the rules alone, nothing is added.
func TestLearnedPartAddsAFlagNamingTheWords(t *testing.T) {
	d, errs := New(Spec{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if left := d.SetModels(testModel()); len(left) > 0 || !d.HasModel() {
		t.Fatalf("model left out: %v", left)
	}
	res := d.Check("じゃあマタ今度ね")
	if !slices.Equal(res.IDs(), []string{RepeatAsk}) {
		t.Fatalf("flags %v, want [repeat-ask]", res.IDs())
	}
	ev := res.Flags[0].Evidence
	if len(ev) == 0 || ev[0].Cue != CueLearned || ev[0].Text != "じゃあマタ今度" {
		t.Errorf("evidence %+v, want the joined run じゃあマタ今度 as written, under %s", ev, CueLearned)
	}
	for _, draft := range []string{"今度の会議", "See you again next time", "了解です"} {
		if got := d.Check(draft).IDs(); len(got) > 0 {
			t.Errorf("%q: flags %v, want none (below the threshold, or English)", draft, got)
		}
	}
	if got := d.RulesOnly().Check("じゃあマタ今度ね").IDs(); len(got) > 0 {
		t.Errorf("rules only: flags %v, want none", got)
	}
	if !d.HasModel() {
		t.Error("RulesOnly changed the detector it was made from")
	}
}

// TestSetModelsRefusesAnotherReading: a model trained with other features
// or flags is left out, and said to be.
func TestSetModelsRefusesAnotherReading(t *testing.T) {
	d, _ := New(Spec{})
	old := testModel()
	old.Features = "ja:chars1-3;v0"
	fewer := testModel()
	fewer.Lang, fewer.Flags = "en", LearnedFlags[:2]
	if left := d.SetModels(old, fewer); !slices.Equal(left, []string{"ja", "en"}) || d.HasModel() {
		t.Errorf("left out %v, has model %v; want both left out", left, d.HasModel())
	}
}

// TestGrams: Japanese runs of one to three characters never cross a
// space; English runs are words and marks, one to three in a row.
func TestGrams(t *testing.T) {
	names := func(gs []gram) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.name)
		}
		return out
	}
	if got, want := names(grams("また 今度", "ja")), []string{"ま", "また", "た", "今", "今度", "度"}; !slices.Equal(got, want) {
		t.Errorf("ja: %q, want %q", got, want)
	}
	if got, want := names(grams("can't wait!", "en")), []string{"can't", "can't wait", "can't wait !", "wait", "wait !", "!"}; !slices.Equal(got, want) {
		t.Errorf("en: %q, want %q", got, want)
	}
}

// TestTrainModel: trained on drafts where one word goes with a flag, the
// model raises it on a draft it has not seen that holds the word, and not
// on one without it; the same drafts give the same model.
func TestTrainModel(t *testing.T) {
	d, _ := New(Spec{})
	var samples []Sample
	for i := range 40 {
		samples = append(samples,
			Sample{Lang: "en", Text: fmt.Sprintf("zorbly dinner %d", i), Labels: []string{ContactAsk, RepeatAsk}},
			Sample{Lang: "en", Text: fmt.Sprintf("report draft %d", i)},
			Sample{Lang: "ja", Text: "日本語の下書き"})
	}
	opt := TrainOptions{Epochs: 15, Rate: 0.5, L2: 1e-4, MinDF: 3, Prune: 0.005, Threshold: map[string]float64{"en": 0.6}}
	m := TrainModel(d, "en", samples, []string{"thanks for the report"}, opt)
	again := TrainModel(d, "en", samples, []string{"thanks for the report"}, opt)
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Error("the same drafts gave two models")
	}
	if _, ok := m.Weights["日本語"]; ok {
		t.Error("the English model read Japanese drafts")
	}
	if m.Threshold != 0.6 {
		t.Errorf("threshold %v, want 0.6", m.Threshold)
	}
	d.SetModels(m)
	if got := d.Check("zorbly lunch maybe?"); !got.Has(RepeatAsk) || got.Has(Guilt) {
		t.Errorf("a draft with the word: flags %v, want repeat-ask and no guilt", got.IDs())
	}
	if got := d.Check("the report is ready").IDs(); len(got) > 0 {
		t.Errorf("a draft without it: flags %v, want none", got)
	}
}
