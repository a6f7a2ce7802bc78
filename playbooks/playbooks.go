// Package playbooks embeds trustbot's content: the YAML files beside this
// one. Nothing else lives here; internal/playbook reads and checks them.
package playbooks

import "embed"

// FS holds the content folders.
//
//go:embed tips phrasings tone journeys ui
var FS embed.FS
