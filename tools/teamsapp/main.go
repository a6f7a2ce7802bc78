// Command teamsapp makes trustbot's Microsoft Teams app package from
// deploy/teams: "package" fills the bot's app ID into the manifest and
// zips it with its language file and icons; "icons" draws the two icons
// again. It needs nothing but Go (no zip program).
//
//	go run ./tools/teamsapp package [-app-id GUID] [-version X.Y.Z] [-dir deploy/teams] [-out dist/trustbot-teams.zip]
//	go run ./tools/teamsapp icons [-out deploy/teams]
//
// make teams-package and make teams-icons run them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// usageError is a mistake in how the tool was called (exit status 2).
type usageError struct{ error }

func usageErr(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const usage = `Usage:
  teamsapp package [-app-id GUID] [-version X.Y.Z] [-dir DIR] [-out FILE]
      the Teams app package: the manifest with the app ID filled in, its
      language files and icons, zipped (TEAMS_APP_ID, TEAMS_APP_VERSION are
      read when the flags are not given)
  teamsapp icons [-out DIR]
      draw color.png (192×192) and outline.png (32×32) again
`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(args, getenv, stdout)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "teamsapp:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "teamsapp:", err)
		return 1
	}
}

func dispatch(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return usageErr("name a command, package or icons")
	}
	fs := flag.NewFlagSet("teamsapp "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	switch args[0] {
	case "package":
		appID := fs.String("app-id", getenv("TEAMS_APP_ID"), "the Azure Bot's Microsoft App ID, a GUID (default $TEAMS_APP_ID)")
		version := fs.String("version", getenv("TEAMS_APP_VERSION"), "the app's version, X.Y.Z; raise it for each upload that replaces an earlier one (default $TEAMS_APP_VERSION, else the manifest's)")
		dir := fs.String("dir", "deploy/teams", "the folder holding manifest.json, its language files and icons")
		out := fs.String("out", "dist/trustbot-teams.zip", "the package to write")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		p, err := Build(*dir, *appID, *version)
		if err != nil {
			return err
		}
		if err := p.Write(*out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: app ID %s, version %s, files %v.\nUpload it in the Teams admin center (Teams apps → Manage apps → Actions → Upload new app), or in Teams (Apps → Manage your apps → Upload an app → Upload a custom app).\n", *out, p.AppID, p.Version, p.Names())
		return nil
	case "icons":
		out := fs.String("out", "deploy/teams", "the folder to write color.png and outline.png into")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		return drawIcons(*out)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return usageErr("unknown command %q", args[0])
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
