//go:build unix

package schedule

import (
	"errors"
	"syscall"
)

// alive reports whether a process with this ID runs on this host (SQLite
// keeps every process of a database on one host).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
