// Package playbooks embeds trustbot's content: the YAML files beside this
// one. Nothing else lives here; internal/playbook reads and checks them.
package playbooks

import "embed"

// FS holds the content folders and style.yaml.
//
//go:embed tips phrasings tone journeys ui style.yaml
var FS embed.FS
