package console

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/trustbot/trustbot/internal/trustbot"
)

// DefaultExportDir is where "export" writes when no file is named: the
// user's data folder, outside any repository ($XDG_DATA_HOME/trustbot,
// else $HOME/.local/share/trustbot). It is "" when neither is set.
func DefaultExportDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "trustbot")
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "share", "trustbot")
	}
	return ""
}

// errNoFolder: there is no home folder to write into.
var errNoFolder = errors.New("no home folder (HOME)")

// exportPath decides where a file goes: the file the user named (a
// leading ~ is their home; an existing folder gets the file's own name
// inside it), else the export folder.
func (c *Console) exportPath(f *trustbot.File) (string, error) {
	dest := strings.TrimSpace(f.Dest)
	if dest == "" {
		if c.ExportDir == "" {
			return "", errNoFolder
		}
		return filepath.Join(c.ExportDir, filepath.Base(f.Name)), nil
	}
	if dest == "~" || strings.HasPrefix(dest, "~/") {
		if c.Home == "" {
			return "", errNoFolder
		}
		dest = filepath.Join(c.Home, strings.TrimPrefix(dest, "~"))
	}
	if st, err := os.Stat(dest); err == nil && st.IsDir() {
		dest = filepath.Join(dest, filepath.Base(f.Name))
	}
	return filepath.Abs(dest)
}

// errExists: a file is never overwritten, so that personal data never
// lands in a file others can read.
var errExists = errors.New("exists")

// writeFile writes data to a new file readable only by the user, creating
// its folder (0700) when it is the export folder.
func writeFile(path string, data []byte, mkdir bool) error {
	if mkdir {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return errExists
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// save writes a file for the user where they asked, or into the export
// folder, readable only by them, and says where it went.
func (c *Console) save(f *trustbot.File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	path, err := c.exportPath(f)
	if err == nil {
		err = writeFile(path, f.Data, strings.TrimSpace(f.Dest) == "")
	}
	switch {
	case errors.Is(err, errExists):
		fmt.Fprintln(c.Out, c.T("console.save_exists", "file", path))
	case err != nil:
		fmt.Fprintln(c.Out, c.T("console.save_failed", "file", path, "error", err.Error()))
	default:
		fmt.Fprintln(c.Out, c.T("console.saved", "file", path))
	}
}
