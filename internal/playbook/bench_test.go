package playbook_test

import (
	"testing"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/playbooks"
)

// BenchmarkLoad loads the built-in content again and again: after the
// first load in a process, its patterns and models are kept already.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := playbook.Load(playbooks.FS); err != nil {
			b.Fatal(err)
		}
	}
}
