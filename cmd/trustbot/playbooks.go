package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"

	"github.com/trustbot/trustbot/internal/playbook"
	"github.com/trustbot/trustbot/playbooks"
)

// errProblems is returned by lint when the content has problems (exit 1).
var errProblems = errors.New("the playbooks have problems")

// playbooksCmd runs "playbooks lint [DIR]" and "playbooks stats [--json] [DIR]".
func playbooksCmd(_ context.Context, e env) error {
	if len(e.args) == 0 {
		return usageErr("playbooks needs a subcommand: lint, stats, tone-eval, tone-check or tone-train")
	}
	sub := e.args[0]
	e.args = e.args[1:]
	switch sub {
	case "lint":
		fs := e.flags("playbooks lint", "Exit status 1 when there is any problem; warnings (such as one ending closing too many tips) are printed but pass.")
		if err := e.parse(fs); err != nil {
			return err
		}
		fsys, name, err := contentFS(fs.Args())
		if err != nil {
			return err
		}
		problems := playbook.Lint(fsys)
		warnings := 0
		for _, p := range problems {
			fmt.Fprintln(e.stdout, p.String())
			if p.Warn {
				warnings++
			}
		}
		if n := len(problems) - warnings; n > 0 {
			return fmt.Errorf("%w: %d in %s", errProblems, n, name)
		}
		if warnings > 0 {
			fmt.Fprintf(e.stdout, "%s: no problems; warnings to look at: %d\n", name, warnings)
			return nil
		}
		fmt.Fprintf(e.stdout, "%s: no problems\n", name)
		return nil
	case "stats":
		fs := e.flags("playbooks stats", "")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := e.parse(fs); err != nil {
			return err
		}
		lib, err := embedded()
		if len(fs.Args()) > 0 {
			var fsys iofs.FS
			if fsys, _, err = contentFS(fs.Args()); err != nil {
				return err
			}
			lib, err = playbook.Load(fsys)
		}
		if err != nil {
			return err
		}
		st := lib.Stats()
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		}
		printStats(e, st)
		return nil
	case "tone-eval":
		return toneEval(e)
	case "tone-check":
		return toneCheck(e)
	case "tone-train":
		return toneTrain(e)
	}
	return usageErr("unknown playbooks subcommand %q: use lint, stats, tone-eval, tone-check or tone-train", sub)
}

func contentFS(args []string) (iofs.FS, string, error) {
	switch len(args) {
	case 0:
		return playbooks.FS, "embedded playbooks", nil
	case 1:
		if st, err := os.Stat(args[0]); err != nil || !st.IsDir() {
			return nil, "", usageErr("%s is not a folder", args[0])
		}
		return os.DirFS(args[0]), args[0], nil
	}
	return nil, "", usageErr("at most one folder")
}

func printStats(e env, st playbook.Stats) {
	w := e.stdout
	fmt.Fprintf(w, "%-10s %6s %8s %10s %8s %4s\n", "language", "tips", "actions", "phrasings", "casual", "ui")
	for _, l := range []string{"ja", "en"} {
		s := st.Languages[l]
		fmt.Fprintf(w, "%-10s %6d %8d %10d %8d %4d\n", l, s.Tips, s.TipsWithAction, s.Phrasings, s.CasualVariants, s.UIStrings)
	}
	fmt.Fprintf(w, "\ntips per topic (%d topics):\n", len(st.Topics))
	for _, k := range sortedKeys(st.Topics) {
		fmt.Fprintf(w, "  %-28s %3d\n", k, st.Topics[k])
	}
	fmt.Fprintf(w, "\nphrasings per situation (%d situations):\n", len(st.Situations))
	for _, k := range sortedKeys(st.Situations) {
		fmt.Fprintf(w, "  %-28s %3d\n", k, st.Situations[k])
	}
	fmt.Fprintf(w, "\ntone check: %d flags from %d cues; tone examples: ja %d, en %d\n", st.ToneFlags, st.ToneCues, st.Examples["ja"], st.Examples["en"])
	for _, k := range sortedKeys(st.Journeys) {
		fmt.Fprintf(w, "journey %s: %d steps\n", k, st.Journeys[k])
	}
	fmt.Fprintf(w, "check-in questions: %d\n", st.Questions)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
