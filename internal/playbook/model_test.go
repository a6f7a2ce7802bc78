package playbook_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/playbooks"
	"go.yaml.in/yaml/v3"
)

// contentWith returns the built-in content with some files replaced
// (nil data: removed).
func contentWith(t *testing.T, files map[string][]byte) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(playbooks.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(playbooks.FS, path)
		fsys[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, b := range files {
		if b == nil {
			delete(fsys, path)
			continue
		}
		fsys[path] = &fstest.MapFile{Data: b}
	}
	return fsys
}

// everyExample returns tone/examples.yaml with every nth case only (all
// of them when n is 1), for a test that lints changed content for
// another problem than the examples: running every example is most of a
// lint's time.
func everyExample(t *testing.T, n int) []byte {
	t.Helper()
	b, err := fs.ReadFile(playbooks.FS, "tone/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples []playbook.ToneExample `yaml:"examples"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var kept []playbook.ToneExample
	for i := 0; i < len(doc.Examples); i += n {
		kept = append(kept, doc.Examples[i])
	}
	doc.Examples = kept
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestToneModelLoaded: the built-in content carries the models of the
// tone check's learned part; a model trained with another reading of
// drafts, of the wrong language or unreadable is a problem the lint names,
// and without a model the rules read alone.
func TestToneModelLoaded(t *testing.T) {
	lib, err := playbook.Load(playbooks.FS)
	if err != nil {
		t.Fatal(err)
	}
	if !lib.Tone.HasModel() {
		t.Fatal("the built-in content has no learned part")
	}
	b, err := fs.ReadFile(playbooks.FS, "tone/model-ja.json")
	if err != nil {
		t.Fatal(err)
	}
	var m tone.Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	old := m
	old.Features = "ja:chars1-3;v0"
	stale, _ := json.Marshal(old)
	// (Each lint reads all the content: two cover the three problems.)
	for _, c := range []struct {
		files map[string][]byte
		want  map[string]string // file → what its problem says
	}{
		{map[string][]byte{"tone/model-ja.json": stale, "tone/model-en.json": b}, map[string]string{"tone/model-ja.json": "train it again", "tone/model-en.json": `a model of language "ja"`}},
		{map[string][]byte{"tone/model-ja.json": []byte("{")}, map[string]string{"tone/model-ja.json": "not the JSON of a model"}},
	} {
		c.files["tone/examples.yaml"] = everyExample(t, 80)
		problems := playbook.Lint(contentWith(t, c.files))
		for file, want := range c.want {
			if !slices.ContainsFunc(problems, func(p playbook.Problem) bool { return p.File == file && strings.Contains(p.Msg, want) }) {
				t.Errorf("%s: the lint does not say %q: %v", file, want, problems)
			}
		}
	}
	bare, err := playbook.Load(contentWith(t, map[string][]byte{"tone/model-ja.json": nil, "tone/model-en.json": nil}))
	if err != nil {
		t.Fatal(err)
	}
	if bare.Tone.HasModel() {
		t.Error("content without model files has a learned part")
	}
}
