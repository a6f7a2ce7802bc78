package sqlite

import "fmt"

// LockedError says that another process holds the database's lock.
type LockedError struct {
	Path   string
	Holder string // what the holder wrote: its command and process ID; may be empty
}

func (e *LockedError) Error() string {
	holder := "another trustbot"
	if e.Holder != "" {
		holder += " (" + e.Holder + ")"
	}
	return fmt.Sprintf("%s is already running on %s: only one trustbot that sends messages may use a database at a time; stop it first, or give this one a database of its own (--db)", holder, e.Path)
}

// ReadOnlyError says that the database, or the directory it is in, cannot
// be written: a file system mounted or remounted read-only, or a file or
// directory this process may not write.
type ReadOnlyError struct {
	Path string
	Err  error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("the database %s cannot be written (%v): trustbot writes to it, and beside it to its WAL, shared-memory and lock files; make the file and its directory writable by this process, then start again", e.Path, e.Err)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }
