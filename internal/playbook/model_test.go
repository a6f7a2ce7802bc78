package playbook_test

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/playbooks"
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

// TestToneModelLoaded: the built-in content carries the Japanese model of
// the tone check's learned part; a model trained with another reading of
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
	en := m
	en.Lang = "en"
	wrongLang, _ := json.Marshal(en)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"stale", stale, "train it again"},
		{"another language", wrongLang, `a model of language "en"`},
		{"unreadable", []byte("{"), "unexpected end of JSON"},
	} {
		fsys := contentWith(t, map[string][]byte{"tone/model-ja.json": c.data})
		var found bool
		for _, p := range playbook.Lint(fsys) {
			found = found || p.File == "tone/model-ja.json" && strings.Contains(p.Msg, c.want)
		}
		if !found {
			t.Errorf("%s: the lint does not say %q", c.name, c.want)
		}
	}
	bare, err := playbook.Load(contentWith(t, map[string][]byte{"tone/model-ja.json": nil}))
	if err != nil {
		t.Fatal(err)
	}
	if bare.Tone.HasModel() {
		t.Error("content without a model file has a learned part")
	}
}
