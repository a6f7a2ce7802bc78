//go:build !race

package tone_test

import (
	"testing"

	"github.com/trustbot/trustbot/internal/playbook"
)

// TestRetiredTargets does the same as TestHoldoutTargets on the retired
// holdout. With its thousands of drafts it takes about a minute under the
// race detector, which adds nothing to a measurement: it is built without
// -race only, and run by make test-tone, which CI runs.
func TestRetiredTargets(t *testing.T) {
	checkTargets(t, playbook.Retired, retiredFloors)
}
