package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// placeholder is what manifest.json holds where the app ID belongs.
const placeholder = "${{TEAMS_APP_ID}}"

var (
	guid        = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	semver      = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	anyHolder   = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	schemaURL   = regexp.MustCompile(`^https://developer\.microsoft\.com/json-schemas/teams/v([0-9]+\.[0-9]+)/MicrosoftTeams\.schema\.json$`)
	packageTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // every entry's time: the same input gives the same zip
)

// commandLimit is how many commands one of a bot's command lists may hold
// in a manifest of the given schema version: 12 from 1.24, 10 before.
func commandLimit(manifestVersion string) int {
	major, minor, _ := strings.Cut(manifestVersion, ".")
	ma, _ := strconv.Atoi(major)
	mi, _ := strconv.Atoi(minor)
	if ma > 1 || ma == 1 && mi >= 24 {
		return 12
	}
	return 10
}

// manifest is what the package checks in manifest.json.
type manifest struct {
	Schema           string `json:"$schema"`
	ManifestVersion  string `json:"manifestVersion"`
	Version          string `json:"version"`
	ID               string `json:"id"`
	LocalizationInfo *struct {
		AdditionalLanguages []struct {
			LanguageTag string `json:"languageTag"`
			File        string `json:"file"`
		} `json:"additionalLanguages"`
	} `json:"localizationInfo"`
	Icons struct {
		Color   string `json:"color"`
		Outline string `json:"outline"`
	} `json:"icons"`
	Bots []struct {
		BotID        string `json:"botId"`
		CommandLists []struct {
			Scopes   []string `json:"scopes"`
			Commands []struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"commands"`
		} `json:"commandLists"`
	} `json:"bots"`
	WebApplicationInfo *struct {
		ID string `json:"id"`
	} `json:"webApplicationInfo"`
}

// Package is a Teams app package ready to be written: manifest.json first,
// then the files it names, all at the zip's root.
type Package struct {
	AppID, Version string
	files          []file
}

type file struct {
	name string
	data []byte
}

// Names lists the package's files in order.
func (p *Package) Names() []string {
	var n []string
	for _, f := range p.files {
		n = append(n, f.name)
	}
	return n
}

// Build reads dir/manifest.json, puts appID wherever the manifest holds
// the placeholder, sets the version when one is given, and gathers the
// files the manifest names, checking each against Teams' rules.
func Build(dir, appID, version string) (*Package, error) {
	appID = strings.TrimSpace(appID)
	switch {
	case appID == "":
		return nil, usageErr("TEAMS_APP_ID is not set: give the Azure Bot's Microsoft App ID, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): make teams-package TEAMS_APP_ID=…")
	case !guid.MatchString(appID):
		return nil, usageErr("TEAMS_APP_ID=%q is not a GUID: the Azure Bot's Microsoft App ID has the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hexadecimal digits)", appID)
	}
	version = strings.TrimSpace(version)
	if version != "" && !semver.MatchString(version) {
		return nil, usageErr("TEAMS_APP_VERSION=%q: use three numbers such as 1.0.1, higher than the version uploaded before", version)
	}

	raw, err := readFilled(dir, "manifest.json", appID)
	if err != nil {
		return nil, err
	}
	if version != "" {
		if raw, err = setTopLevel(raw, "version", version); err != nil {
			return nil, fmt.Errorf("manifest.json: %w", err)
		}
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if err := m.check(appID); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	p := &Package{AppID: appID, Version: m.Version, files: []file{{"manifest.json", raw}}}

	if m.LocalizationInfo != nil {
		for _, l := range m.LocalizationInfo.AdditionalLanguages {
			if err := rootName(l.File); err != nil {
				return nil, fmt.Errorf("manifest.json: the %s language file: %w", l.LanguageTag, err)
			}
			b, err := readFilled(dir, l.File, appID)
			if err != nil {
				return nil, err
			}
			var strs map[string]any
			if err := json.Unmarshal(b, &strs); err != nil {
				return nil, fmt.Errorf("%s: %w", l.File, err)
			}
			p.files = append(p.files, file{l.File, b})
		}
	}
	for _, icon := range []struct {
		name  string
		check func([]byte) error
	}{{m.Icons.Color, checkColor}, {m.Icons.Outline, checkOutline}} {
		if err := rootName(icon.name); err != nil {
			return nil, fmt.Errorf("manifest.json: icon: %w", err)
		}
		b, err := os.ReadFile(filepath.Join(dir, icon.name))
		if err != nil {
			return nil, err
		}
		if err := icon.check(b); err != nil {
			return nil, fmt.Errorf("%s: %w", icon.name, err)
		}
		p.files = append(p.files, file{icon.name, b})
	}
	return p, nil
}

// check holds the manifest to what the package promises: its schema
// version, the app ID in every place it belongs, and Teams' limits.
func (m manifest) check(appID string) error {
	v := schemaURL.FindStringSubmatch(m.Schema)
	switch {
	case v == nil:
		return fmt.Errorf("$schema %q is not a Teams manifest schema URL", m.Schema)
	case v[1] != m.ManifestVersion:
		return fmt.Errorf("manifestVersion %q differs from the schema's %s", m.ManifestVersion, v[1])
	case !semver.MatchString(m.Version):
		return fmt.Errorf("version %q: use three numbers such as 1.0.0", m.Version)
	case m.ID != appID:
		return fmt.Errorf("id is %q, not the app ID (%s)", m.ID, placeholder)
	case len(m.Bots) != 1:
		return fmt.Errorf("want one bot, found %d", len(m.Bots))
	case m.Bots[0].BotID != appID:
		return fmt.Errorf("bots[0].botId is %q, not the app ID (%s)", m.Bots[0].BotID, placeholder)
	case m.WebApplicationInfo != nil && m.WebApplicationInfo.ID != appID:
		return fmt.Errorf("webApplicationInfo.id is %q, not the app ID (%s)", m.WebApplicationInfo.ID, placeholder)
	}
	limit := commandLimit(m.ManifestVersion)
	for i, l := range m.Bots[0].CommandLists {
		if n := len(l.Commands); n > limit {
			return fmt.Errorf("bots[0].commandLists[%d] has %d commands; manifest %s allows %d", i, n, m.ManifestVersion, limit)
		}
	}
	return nil
}

// readFilled reads dir/name with the app ID put in place of the
// placeholder; any other placeholder left is an error.
func readFilled(dir, name, appID string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	b = bytes.ReplaceAll(b, []byte(placeholder), []byte(appID))
	if left := anyHolder.Find(b); left != nil {
		return nil, fmt.Errorf("%s: %s is not filled in by this tool (it fills %s)", name, left, placeholder)
	}
	return b, nil
}

// setTopLevel replaces the value of one key of a JSON object, keeping the
// order of its keys, and indents the result.
func setTopLevel(doc []byte, key, value string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	found := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		k := t.(string)
		if k == key {
			found = true
			v, _ = json.Marshal(value)
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	if !found {
		return nil, fmt.Errorf("no %q", key)
	}
	out.WriteByte('}')
	var ind bytes.Buffer
	if err := json.Indent(&ind, out.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	ind.WriteByte('\n')
	return ind.Bytes(), nil
}

// rootName refuses a file name that is not a plain name at the package's
// root, where Teams looks for it.
func rootName(name string) error {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("%q: name a file at the package's root", name)
	}
	return nil
}

// Teams' icon rules: a full-colour 192×192 square and a 32×32 outline,
// white on transparent.
const (
	colorSize   = 192
	outlineSize = 32
)

func decodePNG(b []byte, size int) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not a PNG: %w", err)
	}
	if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
		return nil, fmt.Errorf("%d×%d pixels, Teams wants %d×%d", r.Dx(), r.Dy(), size, size)
	}
	return img, nil
}

// checkColor: 192×192 and opaque throughout (Teams masks the corners).
func checkColor(b []byte) error {
	img, err := decodePNG(b, colorSize)
	if err != nil {
		return err
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); c.A != 0xFF {
				return fmt.Errorf("pixel (%d,%d) is not opaque: the colour icon fills its whole square", x, y)
			}
		}
	}
	return nil
}

// checkOutline: 32×32, every pixel white (at any opacity) or transparent,
// and not empty.
func checkOutline(b []byte) error {
	img, err := decodePNG(b, outlineSize)
	if err != nil {
		return err
	}
	r := img.Bounds()
	drawn := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A == 0 {
				continue
			}
			if c.R != 0xFF || c.G != 0xFF || c.B != 0xFF {
				return fmt.Errorf("pixel (%d,%d) is %v: the outline icon is white on transparent only", x, y, c)
			}
			drawn++
		}
	}
	if drawn == 0 {
		return errors.New("the outline icon is empty")
	}
	return nil
}

// Write writes the package as a zip to name, through a temporary file in
// the same folder so that a failed write leaves no half package.
func (p *Package) Write(name string) (err error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".teams-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	for _, f := range p.files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: packageTime})
		if err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
