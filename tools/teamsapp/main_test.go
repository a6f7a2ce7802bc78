package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/trustbot/trustbot/internal/coach"
)

const (
	teamsDir  = "../../deploy/teams"
	schemaDir = "testdata/schema/v1.30"
	testAppID = "0b7c3e52-9d8a-4f61-a2c4-5e0f8d9b1a73"
)

// The icons as drawn, once for all the tests.
var (
	drawnColor   = sync.OnceValue(colorIcon)
	drawnOutline = sync.OnceValue(outlineIcon)
)

// buildZip builds the package from deploy/teams with run, as make does,
// and returns its files by name.
func buildZip(t *testing.T, args ...string) map[string][]byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist", "trustbot-teams.zip")
	var stdout, stderr bytes.Buffer
	args = append([]string{"package", "-dir", teamsDir, "-out", out}, args...)
	env := func(k string) string {
		if k == "TEAMS_APP_ID" {
			return testAppID
		}
		return ""
	}
	if code := run(args, env, &stdout, &stderr); code != 0 {
		t.Fatalf("teamsapp %v: exit %d: %s", args, code, stderr.String())
	}
	if !strings.Contains(stdout.String(), out) {
		t.Errorf("the tool does not say where the package went: %q", stdout.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
		names = append(names, f.Name)
	}
	if want := []string{"manifest.json", "ja.json", "color.png", "outline.png"}; !slices.Equal(names, want) {
		t.Fatalf("the package holds %v, want %v at its root", names, want)
	}
	return files
}

func TestPackage(t *testing.T) {
	files := buildZip(t)
	var m map[string]any
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatalf("manifest.json in the package is not JSON: %v", err)
	}
	// The app ID everywhere it belongs.
	bot := m["bots"].([]any)[0].(map[string]any)
	for where, got := range map[string]any{
		"id":                    m["id"],
		"bots[0].botId":         bot["botId"],
		"webApplicationInfo.id": m["webApplicationInfo"].(map[string]any)["id"],
	} {
		if got != testAppID {
			t.Errorf("%s = %v, want the app ID %s", where, got, testAppID)
		}
	}
	if got := m["version"]; got != "1.0.0" {
		t.Errorf("version = %v, want the manifest's 1.0.0", got)
	}
	if got := bot["supportsFiles"]; got != false {
		t.Errorf("supportsFiles = %v, want false", got)
	}
	if got := bot["scopes"]; fmt.Sprint(got) != "[personal team]" {
		t.Errorf("scopes = %v, want personal and team", got)
	}
	for name, b := range files {
		if bytes.Contains(b, []byte("${{")) {
			t.Errorf("%s still holds a placeholder", name)
		}
	}
	// The icons and the language file go in as they are.
	for _, name := range []string{"ja.json", "color.png", "outline.png"} {
		src, err := os.ReadFile(filepath.Join(teamsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(files[name], src) {
			t.Errorf("%s in the package differs from deploy/teams/%s", name, name)
		}
	}
}

func TestPackageVersion(t *testing.T) {
	files := buildZip(t, "-version", "1.4.2")
	var m map[string]any
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m["version"] != "1.4.2" || m["id"] != testAppID {
		t.Errorf("version %v, id %v: want 1.4.2 and the app ID", m["version"], m["id"])
	}
	// The keys keep their order: $schema first, as people read it.
	if !bytes.HasPrefix(bytes.TrimSpace(files["manifest.json"]), []byte("{\n  \"$schema\"")) {
		t.Errorf("the manifest's keys were reordered:\n%.120s", files["manifest.json"])
	}
}

// TestPackageRefuses: without a usable app ID or version nothing is
// written, and the message says what to give.
func TestPackageRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"Unset", nil, nil, "TEAMS_APP_ID is not set"},
		{"Blank", map[string]string{"TEAMS_APP_ID": "  "}, nil, "TEAMS_APP_ID is not set"},
		{"NotGUID", map[string]string{"TEAMS_APP_ID": "my-bot"}, nil, `TEAMS_APP_ID="my-bot" is not a GUID`},
		{"ShortGUID", nil, []string{"-app-id", "0b7c3e52-9d8a-4f61-a2c4-5e0f8d9b1a7"}, "is not a GUID"},
		{"GUIDInBraces", nil, []string{"-app-id", "{" + testAppID + "}"}, "is not a GUID"},
		{"BadVersion", map[string]string{"TEAMS_APP_ID": testAppID, "TEAMS_APP_VERSION": "v2"}, nil, `TEAMS_APP_VERSION="v2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "trustbot-teams.zip")
			var stdout, stderr bytes.Buffer
			args := append([]string{"package", "-dir", teamsDir, "-out", out}, tc.args...)
			code := run(args, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a package was written: %v", err)
			}
		})
	}
}

// TestPackageChecksManifest: a manifest that lost the app ID somewhere, or
// a list longer than its schema version allows, is refused.
func TestPackageChecksManifest(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(teamsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"BotIDFixed", `"botId": "${{TEAMS_APP_ID}}"`, `"botId": "00000000-0000-0000-0000-000000000000"`, "bots[0].botId"},
		{"WebAppIDFixed", `"id": "${{TEAMS_APP_ID}}"
  },`, `"id": "00000000-0000-0000-0000-000000000000"
  },`, "webApplicationInfo.id"},
		{"OtherPlaceholder", `"short": "trustbot"`, `"short": "${{NAME}}"`, "${{NAME}}"},
		{"VersionMismatch", `"manifestVersion": "1.30"`, `"manifestVersion": "1.23"`, "differs from the schema's 1.30"},
		{"TooManyCommands", `"commands": [`, `"commands": [{"title": "lang"},`, "has 13 commands; manifest 1.30 allows 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(src, []byte(tc.old)) {
				t.Fatalf("manifest.json no longer holds %q", tc.old)
			}
			dir := t.TempDir()
			for _, name := range []string{"ja.json", "color.png", "outline.png"} {
				b, err := os.ReadFile(filepath.Join(teamsDir, name))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
			os.WriteFile(filepath.Join(dir, "manifest.json"), bytes.Replace(src, []byte(tc.old), []byte(tc.new), 1), 0o644)
			_, err := Build(dir, testAppID, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestCommandLimit(t *testing.T) {
	for v, want := range map[string]int{"1.16": 10, "1.23": 10, "1.24": 12, "1.30": 12, "2.0": 12} {
		if got := commandLimit(v); got != want {
			t.Errorf("commandLimit(%s) = %d, want %d", v, got, want)
		}
	}
}

// schemaValidator compiles the vendored schema at loc. The schemas use
// ECMAScript patterns: Go's regexp takes all but one, "a string that is
// not blank or null", written here by hand; any other pattern Go cannot
// read fails the test if a document reaches it.
func schemaValidator(t *testing.T, file, url string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(schemaDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
		if s == nonBlankPattern {
			return nonBlank{}, nil
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return unreadPattern{t, s}, nil
		}
		return re, nil
	})
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const nonBlankPattern = `^(?![nN][uU][lL]{2}$)\s*\S.*`

type nonBlank struct{}

func (nonBlank) String() string { return nonBlankPattern }
func (nonBlank) MatchString(s string) bool {
	return !strings.EqualFold(s, "null") && strings.TrimFunc(s, unicode.IsSpace) != ""
}

type unreadPattern struct {
	t *testing.T
	s string
}

func (u unreadPattern) String() string { return u.s }
func (u unreadPattern) MatchString(string) bool {
	u.t.Errorf("the schema pattern %q was used and Go's regexp cannot read it", u.s)
	return false
}

func validate(t *testing.T, s *jsonschema.Schema, b []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

// TestManifestSchema validates the package's manifest and its Japanese
// strings against the vendored schemas of the version the manifest names.
func TestManifestSchema(t *testing.T) {
	files := buildZip(t)
	var head struct {
		Schema string `json:"$schema"`
	}
	json.Unmarshal(files["manifest.json"], &head)
	base := "https://developer.microsoft.com/json-schemas/teams/v1.30/"
	if head.Schema != base+"MicrosoftTeams.schema.json" {
		t.Fatalf("the manifest names %s; the vendored schema is %s", head.Schema, schemaDir)
	}
	manifest := schemaValidator(t, "MicrosoftTeams.schema.json", head.Schema)
	if err := validate(t, manifest, files["manifest.json"]); err != nil {
		t.Errorf("manifest.json: %v", err)
	}
	var ja struct {
		Schema string `json:"$schema"`
	}
	json.Unmarshal(files["ja.json"], &ja)
	if ja.Schema != base+"MicrosoftTeams.Localization.schema.json" {
		t.Errorf("ja.json names the schema %s, want the localization schema of 1.30", ja.Schema)
	}
	loc := schemaValidator(t, "MicrosoftTeams.Localization.schema.json", base+"MicrosoftTeams.Localization.schema.json")
	if err := validate(t, loc, files["ja.json"]); err != nil {
		t.Errorf("ja.json: %v", err)
	}

	// The validator is live: what the schema forbids fails.
	bad := bytes.Replace(files["manifest.json"], []byte(`"supportsFiles": false`), []byte(`"supportsFiles": "no"`), 1)
	if validate(t, manifest, bad) == nil {
		t.Error("a manifest with supportsFiles \"no\" passed the schema")
	}
	badJa := bytes.Replace(files["ja.json"], []byte(`"name.short": "trustbot"`), []byte(`"name.short": "  "`), 1)
	if validate(t, loc, badJa) == nil {
		t.Error("ja.json with a blank name passed the schema")
	}
}

// TestCommandLists: each list stays within the limit, every title is a
// command trustbot knows as typed, every command has its description in
// English and in Japanese, and the personal list names the main commands.
func TestCommandLists(t *testing.T) {
	var m struct {
		ManifestVersion string `json:"manifestVersion"`
		Bots            []struct {
			CommandLists []struct {
				Scopes   []string `json:"scopes"`
				Commands []struct {
					Title       string `json:"title"`
					Description string `json:"description"`
				} `json:"commands"`
			} `json:"commandLists"`
		} `json:"bots"`
	}
	var ja map[string]any
	b, _ := os.ReadFile(filepath.Join(teamsDir, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(teamsDir, "ja.json"))
	if err := json.Unmarshal(b, &ja); err != nil {
		t.Fatal(err)
	}
	if m.ManifestVersion < "1.24" {
		t.Errorf("manifestVersion %s: want 1.24 or newer", m.ManifestVersion)
	}
	lists := m.Bots[0].CommandLists
	scopes := map[string][]string{}
	described := map[string]bool{}
	for i, l := range lists {
		if len(l.Scopes) != 1 {
			t.Errorf("commandLists[%d] is for %v: one list per scope", i, l.Scopes)
			continue
		}
		if n, limit := len(l.Commands), commandLimit(m.ManifestVersion); n > limit {
			t.Errorf("commandLists[%d] (%s): %d commands, the limit is %d", i, l.Scopes[0], n, limit)
		}
		for j, c := range l.Commands {
			cmd := coach.Parse(c.Title)
			if first, _, _ := strings.Cut(c.Title, " "); !cmd.Known || cmd.Name != first {
				t.Errorf("%s list: %q is not a command trustbot knows as typed", l.Scopes[0], c.Title)
			}
			if strings.TrimSpace(c.Description) == "" {
				t.Errorf("%s list: %q has no description", l.Scopes[0], c.Title)
			}
			key := fmt.Sprintf("bots[0].commandLists[%d].commands[%d].description", i, j)
			described[key] = true
			if s, _ := ja[key].(string); strings.TrimSpace(s) == "" || s == c.Description {
				t.Errorf("ja.json: no Japanese description of %q in the %s list (%s)", c.Title, l.Scopes[0], key)
			}
			scopes[l.Scopes[0]] = append(scopes[l.Scopes[0]], c.Title)
		}
	}
	for k := range ja {
		if strings.HasPrefix(k, "bots[") && !described[k] {
			t.Errorf("ja.json: %s describes no command of the manifest", k)
		}
	}
	for _, want := range []string{"help", "tip", "phrase", "check", "checkin", "history", "declined", "plan", "journeys", "home", "export"} {
		if !slices.Contains(scopes["personal"], want) {
			t.Errorf("the personal list lacks %s", want)
		}
	}
	if !slices.Contains(scopes["team"], "weekly on") || !slices.Contains(scopes["team"], "help") {
		t.Errorf("the team list %v: want weekly on and help", scopes["team"])
	}
}

// TestIcons: the committed icons follow Teams' rules and are what
// teamsapp icons draws.
func TestIcons(t *testing.T) {
	for _, icon := range []struct {
		name  string
		size  int
		check func([]byte) error
		draw  func() *image.NRGBA
	}{
		{"color.png", colorSize, checkColor, drawnColor},
		{"outline.png", outlineSize, checkOutline, drawnOutline},
	} {
		b, err := os.ReadFile(filepath.Join(teamsDir, icon.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := icon.check(b); err != nil {
			t.Errorf("deploy/teams/%s: %v", icon.name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r := img.Bounds(); r.Dx() != icon.size || r.Dy() != icon.size {
			t.Errorf("%s is %v, want %d×%d", icon.name, r.Size(), icon.size, icon.size)
		}
		drawn := icon.draw()
		for y := range icon.size {
			for x := range icon.size {
				got := color.NRGBAModel.Convert(img.At(x, y))
				if want := drawn.NRGBAAt(x, y); got != want {
					t.Fatalf("deploy/teams/%s differs from what teamsapp icons draws at (%d,%d): %v, want %v (run make teams-icons)", icon.name, x, y, got, want)
				}
			}
		}
	}
	// The colour icon is more than a flat square.
	colours := map[color.NRGBA]bool{}
	c := drawnColor()
	for y := range colorSize {
		for x := range colorSize {
			colours[c.NRGBAAt(x, y)] = true
		}
	}
	if len(colours) < 3 {
		t.Errorf("the colour icon has %d colours", len(colours))
	}
	// The mark keeps to the central 120×120 safe area; around it, only
	// the background.
	const safe0, safe1 = (colorSize - 120) / 2, (colorSize + 120) / 2
	bg := c.NRGBAAt(0, 0)
	for y := range colorSize {
		for x := range colorSize {
			inside := x >= safe0 && x < safe1 && y >= safe0 && y < safe1
			if !inside && c.NRGBAAt(x, y) != bg {
				t.Fatalf("the colour icon draws at (%d,%d), outside the 120×120 safe area", x, y)
			}
		}
	}
}

// TestIconChecks: the checks refuse what Teams would.
func TestIconChecks(t *testing.T) {
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		png.Encode(&b, img)
		return b.Bytes()
	}
	outline := drawnOutline()
	grey := image.NewNRGBA(outline.Rect)
	copy(grey.Pix, outline.Pix)
	grey.SetNRGBA(16, 16, color.NRGBA{0x80, 0x80, 0x80, 0xFF})
	holed := image.NewNRGBA(drawnColor().Rect)
	copy(holed.Pix, drawnColor().Pix)
	holed.SetNRGBA(0, 0, color.NRGBA{})
	for _, tc := range []struct {
		name  string
		check func([]byte) error
		b     []byte
	}{
		{"GreyInOutline", checkOutline, encode(grey)},
		{"EmptyOutline", checkOutline, encode(image.NewNRGBA(image.Rect(0, 0, 32, 32)))},
		{"OutlineTooBig", checkOutline, encode(drawnColor())},
		{"ColorTooSmall", checkColor, encode(outline)},
		{"TransparentColor", checkColor, encode(holed)},
		{"NotPNG", checkColor, []byte("GIF89a")},
	} {
		if tc.check(tc.b) == nil {
			t.Errorf("%s passed the check", tc.name)
		}
	}
}

func TestDrawIcons(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"icons", "-out", dir}, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for name, check := range map[string]func([]byte) error{"color.png": checkColor, "outline.png": checkOutline} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := check(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
