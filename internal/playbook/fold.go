package playbook

import (
	"strings"

	"golang.org/x/text/width"
)

// FoldDraft folds text for comparing names: full-width letters, digits
// and spaces become half-width (ＬＩＮＥ → line), half-width katakana
// become full-width, and letters become lower case.
func FoldDraft(s string) string {
	return strings.ToLower(width.Fold.String(s))
}
