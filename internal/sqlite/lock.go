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
