//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Lock makes this process the only one that runs the bot on the database
// at p: it holds an exclusive flock on the file p+".lock" (created 0600
// beside the database) until release is called or the process ends,
// however it ends: the kernel drops the lock with the process. While
// another process holds it, Lock fails at once with an error that says
// which one. what names this process in that error ("serve").
func Lock(p, what string) (release func(), err error) {
	name := p + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
		return nil, &ReadOnlyError{Path: p, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder, _ := os.ReadFile(name)
			return nil, &LockedError{Path: p, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	// Say who holds it, for the error the next one gets. The content is
	// only informative: the lock is the flock, not the file.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(fmt.Sprintf("%s, pid %d\n", what, os.Getpid())), 0)
	}
	return func() {
		f.Truncate(0)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
