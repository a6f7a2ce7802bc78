package tone_test

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"testing"

	"github.com/trustbot/trustbot/internal/tone"
	"github.com/trustbot/trustbot/playbooks"
)

// TestDecodeModelReadsAsJSON: each committed model file is read as
// encoding/json reads it.
func TestDecodeModelReadsAsJSON(t *testing.T) {
	for _, file := range []string{"tone/model-ja.json", "tone/model-en.json"} {
		b, err := fs.ReadFile(playbooks.FS, file)
		if err != nil {
			t.Fatal(err)
		}
		var want tone.Model
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := tone.DecodeModel(b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(got.Weights) < 1000 || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s: read otherwise than by encoding/json (%d features, want %d)", file, len(got.Weights), len(want.Weights))
		}
	}
}

// FuzzDecodeModel: whatever DecodeModel reads, encoding/json reads the
// same; it never panics.
func FuzzDecodeModel(f *testing.F) {
	for _, s := range []string{
		`{"lang":"ja","features":"v","threshold":0.8,"flags":["a","b"],"bias":[-1.5,2e-3],"weights":{"!":[0.1,-2],"x\"y":[1E+2,0],"\u003c":[],"い":[3]}}`,
		`{"weights":{"a":[1]},"weights":{"b":[2]}}`,
		` { "l\u0061ng" : "en" , "bias" : [ ] } `,
		`{"threshold":01}`, `{"threshold":-0.5e}`, `{"flags":["\xff"]}`, `{"Lang":"ja"}`, `{"lang":null}`, `{}`, `{"bias":[1,]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := tone.DecodeModel(b)
		if err != nil {
			return
		}
		var want tone.Model
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: read, but encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("%q: read as %+v, encoding/json reads %+v", b, *got, want)
		}
	})
}

// BenchmarkDecodeModel reads the Japanese model file by DecodeModel and by
// encoding/json.
func BenchmarkDecodeModel(b *testing.B) {
	file, err := fs.ReadFile(playbooks.FS, "tone/model-ja.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeModel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tone.DecodeModel(file); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m tone.Model
			if err := json.Unmarshal(file, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
