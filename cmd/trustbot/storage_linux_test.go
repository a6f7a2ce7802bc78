package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallDiskEnv marks the test binary run again in a mount namespace of its
// own, where it mounts a small disk.
const smallDiskEnv = "TRUSTBOT_TEST_SMALL_DISK"

// smallDisk returns a directory on a tmpfs of its own, a few megabytes
// large, that the test can fill: a full disk, with no root and no risk to
// the machine. The test runs again, alone, in a child process in a new
// user and mount namespace (where it may mount); in the parent, smallDisk
// waits for the child, reports its outcome and returns "" (the test then
// returns). Without user namespaces, or where they may not mount, the test
// is skipped, and says why.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Getenv(smallDiskEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), smallDiskEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok && err != nil {
			t.Skipf("a small disk needs user namespaces, which this machine does not allow: %v", err)
		} else if ee != nil {
			t.Fatalf("the test on a small disk failed: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "--- SKIP: "+t.Name()) {
			t.Skipf("the child could not mount a small disk:\n%s", out)
		}
		t.Logf("on a small disk:\n%s", out)
		return ""
	}
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m,mode=0700"); err != nil {
		// User namespaces allowed, mounting in them not (a security
		// module can forbid it).
		t.Skipf("mount a tmpfs in a user namespace: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestFullDiskDuringServe: the disk under the running bot fills up. The
// disk is real (a tmpfs of 8 MB, filled with a file), so SQLite meets
// ENOSPC where it writes (the WAL) and answers SQLITE_FULL, through the
// same path as on a production disk.
func TestFullDiskDuringServe(t *testing.T) {
	dir := smallDisk(t)
	if dir == "" {
		return
	}
	bot, _ := storeOf(t, filepath.Join(dir, "trustbot.db"), nil)
	var free func()
	testStorageFault(t, bot, storageFault{
		name:   "a full disk",
		on:     func(t *testing.T) { free = fill(t, dir) },
		off:    func(t *testing.T) { free() },
		readyz: "full",
	})
}

// fill writes a file in dir until the disk is full; free removes it.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 4 << 10, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); errors.Is(err, syscall.ENOSPC) {
				break
			} else if err != nil {
				t.Fatalf("filling the disk: %v", err)
			}
		}
	}
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}
