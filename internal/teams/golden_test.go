package teams

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/trustbot/trustbot/internal/coach"
	"github.com/trustbot/trustbot/internal/trustbot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenOptions are the options the handler renders with.
var goldenOptions = Options{Forms: coach.FormActions(), Names: map[string]string{"29:user-1": "Aoi Sato", teamChannel: "General"}}

// golden compares v, encoded as Teams receives it, with testdata/name.
func golden(t *testing.T, name string, v any, stable func(string) string) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := []byte(stable(buf.String()))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/teams -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendering differs from %s (make golden after an intended change):\n%s", path, got)
	}
}

// TestRenderCoach renders every kind of reply the real coach gives, in
// Japanese and English, and compares each with its golden file. The
// golden cards are what make cards-check validates with the Adaptive
// Cards library.
func TestRenderCoach(t *testing.T) {
	written := map[string]bool{}
	for _, loc := range []string{"ja-JP", "en-US"} {
		lang := loc[:2]
		sc, s := scenes(t, loc)
		seen := map[string]int{}
		for _, x := range sc {
			name := x.name
			if seen[name]++; seen[name] > 1 {
				name += "_" + string(rune('0'+seen[name]))
			}
			t.Run(lang+"/"+name, func(t *testing.T) {
				var v any
				if x.reply.Modal != nil {
					required := library(t).T(trustbot.Lang(lang), "teams.required")
					fetch, ok := DialogFor(x.reply, nil, required, goldenOptions)
					if !ok {
						t.Fatal("a form reply gave no dialog")
					}
					// The same form sent back by the coach, with what the
					// user typed in each field and why it came back.
					back := x.reply
					back.Add(trustbot.Block{Kind: trustbot.Section, Text: required})
					typed := map[string]string{}
					for _, in := range back.Modal.Inputs {
						typed[in.ID] = "**" + in.ID + "** <at>x</at>"
						if len(in.Options) > 0 {
							typed[in.ID] = in.Options[len(in.Options)-1].Value
						}
					}
					again, _ := DialogFor(back, typed, required, goldenOptions)
					v = map[string]any{
						"launcher": Launcher(x.reply, Press{ActionID: "opener", Value: "v"}, goldenOptions),
						"dialog":   fetch,
						"again":    again,
					}
				} else {
					ps := Render(x.reply, goldenOptions)
					for _, p := range ps {
						checkPayload(t, p)
					}
					v = ps
				}
				golden(t, filepath.Join(lang, name+".json"), v, s.stable)
				written[filepath.Join(lang, name+".json")] = true
			})
		}
	}
	// No golden file outlives the reply it was made from.
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, f := range files {
		rel, _ := filepath.Rel("testdata", f)
		switch {
		case written[rel] || t.Failed():
		case *update:
			os.Remove(f)
		default:
			t.Errorf("%s: no reply renders to it any more (make golden removes it)", f)
		}
	}
}
