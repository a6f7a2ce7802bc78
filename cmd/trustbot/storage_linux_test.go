package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/sqlite"
	"github.com/trustbot/trustbot/internal/trustbot"
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
		t.Parallel() // the test runs in a process of its own
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

// TestFullDiskWhileDMsGoOut: the disk fills up while serve fans out
// scheduled messages (check-ins, journey follow-ups, channel posts). Slack
// answers slowly, and the disk is filled as soon as the first message
// reaches it: the messages on their way are posted but cannot be recorded,
// the ones not yet claimed cannot be claimed. Meanwhile a user's /trust
// gets the busy answer and /readyz says the disk is full. Once space is
// back and serve started again (its start-up pass looks for what was left
// sending), every message has gone out exactly once and every delivery is
// recorded as sent. The disk is a real tmpfs, as in TestFullDiskDuringServe.
func TestFullDiskWhileDMsGoOut(t *testing.T) {
	dir := smallDisk(t)
	if dir == "" {
		return
	}
	path := filepath.Join(dir, "trustbot.db")
	load := crashLoad{checkins: 8, journeys: 3, channels: 2}
	seedCrash(t, path, load, time.Now().UTC().Truncate(time.Minute))

	fake := fakeslack.New()
	defer fake.Close()
	fake.SetPingInterval(500 * time.Millisecond)
	fake.AddUser(fakeslack.User{ID: jaUser, TZ: "Asia/Tokyo", Locale: "ja-JP"})
	fake.SetDelay("chat.postMessage", time.Second)
	hook := func(db *sqlite.DB) {
		if db.Path == path {
			db.FaultHold, db.ProbeEvery = 300*time.Millisecond, 0
		}
	}
	storeOpened.Store(&hook)
	t.Cleanup(func() { storeOpened.Store(nil) })
	bot := &Bot{Slack: fake, Stderr: &syncBuffer{}, DB: path, HTTP: freeAddr(t)}
	bot.Env = map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": path, "TRUSTBOT_HTTP_ADDR": bot.HTTP, "LOG_LEVEL": "debug"}
	t.Cleanup(func() { bot.Stop(t) })
	bot.Start(t)

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := fake.WaitCalls(ctx, "chat.postMessage", 1); err != nil {
		t.Fatalf("no message went out: %v\n%s", err, bot.Stderr)
	}
	free := fill(t, dir)
	// The start-up pass ends, failing on the full disk.
	bot.waitLog(t, "dispatch pass failed")
	lib := mustLibrary(t)
	if _, r := bot.Slash(t, jaUser, "振り返り 毎週 金 16:00"); !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "error.busy"))) {
		t.Errorf("/trust on a full disk: %s", r.raw)
	}
	if code, body := bot.readyz(t); code != http.StatusServiceUnavailable || !strings.Contains(body, "full") {
		t.Errorf("/readyz on a full disk: %d %s", code, body)
	}
	posted := len(fake.AllMessages())

	free()
	bot.waitReady(t)
	bot.Stop(t)
	bot.Start(t)
	raw := openRaw(t, path)
	defer raw.Close()
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		var sent, all int
		if err := raw.QueryRow(`SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FROM deliveries`).Scan(&sent, &all); err != nil {
			t.Fatal(err)
		}
		if sent == load.total() && all == load.total() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the disk was freed and serve restarted: %d deliveries, %d sent, of %d\n%s", all, sent, load.total(), bot.Stderr)
		}
	}
	byID := map[string]int{}
	for _, m := range fake.AllMessages() {
		byID[deliveryIDOf(m)]++
	}
	if len(byID) != load.total() {
		t.Errorf("%d deliveries reached Slack, of %d", len(byID), load.total())
	}
	for id, n := range byID {
		if n != 1 {
			t.Errorf("delivery %s posted %d times", id, n)
		}
	}
	t.Logf("%d of %d messages were posted before the disk was freed, %d of them not recorded then", posted, load.total(),
		strings.Count(bot.Stderr.String(), "sent but not recorded"))
	if _, r := bot.Slash(t, jaUser, "振り返り 毎週 金 16:00"); !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "checkin.saved"))) {
		t.Errorf("/trust once the disk was freed: %s", r.raw)
	}
}

// TestReadOnlyDatabaseAtStart: serve is started on a database it cannot
// write: the file read-only (a file bind-mounted read-only over it, as a
// read-only volume is), then its whole file system read-only (the disk
// remounted read-only after errors, the bot restarted by its supervisor).
// The kernel refuses the writes (EROFS), as root too: file modes would
// not stop a test run as root. Each time serve does not start, sends
// nothing and says which file cannot be written and what to do; once the
// disk is writable again it starts, and what the user had set up is there.
//
// A file system cannot be made read-only under a running serve: a
// read-only remount is refused (EBUSY) while a file on it is open for
// writing, and only the kernel's own error handling forces one. What
// SQLite then answers, a write refused by the kernel, is played by
// TestWritesRefusedDuringServe.
func TestReadOnlyDatabaseAtStart(t *testing.T) {
	dir := smallDisk(t)
	if dir == "" {
		return
	}
	path := filepath.Join(dir, "trustbot.db")
	bot := MustRunBot(t, map[string]string{"TRUSTBOT_DB": path})
	bot.DB = path
	lib := mustLibrary(t)
	if _, r := bot.Slash(t, jaUser, "振り返り 毎週 金 16:00"); !strings.Contains(r.raw, jsonText(lib.T(trustbot.Japanese, "checkin.saved"))) {
		t.Fatalf("check-in not saved: %s", r.raw)
	}
	bot.Stop(t)

	for _, c := range []struct {
		name    string
		on, off func() error
	}{{
		name: "the file read-only",
		on: func() error {
			if err := syscall.Mount(path, path, "", syscall.MS_BIND, ""); err != nil {
				return err
			}
			return syscall.Mount("", path, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, "")
		},
		off: func() error { return syscall.Unmount(path, 0) },
	}, {
		name: "its file system read-only",
		on:   func() error { return syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "") },
		off:  func() error { return syscall.Mount("", dir, "", syscall.MS_REMOUNT, "") },
	}} {
		if err := c.on(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f, err := os.OpenFile(path, os.O_RDWR, 0); !errors.Is(err, syscall.EROFS) {
			f.Close()
			t.Fatalf("%s: the file opens for writing (%v)", c.name, err)
		}
		connections := bot.Slack.Connections()
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		var errOut bytes.Buffer
		code := run(ctx, []string{"serve"}, func(k string) string { return bot.Env[k] }, strings.NewReader(""), io.Discard, &errOut)
		cancel()
		if want := "the database " + path + " cannot be written"; code != 1 || !strings.Contains(errOut.String(), want) ||
			!strings.Contains(errOut.String(), "read-only file system") || !strings.Contains(errOut.String(), "make the file and its directory writable") {
			t.Errorf("serve with %s: exit %d\n%s\nwant exit 1 saying %q", c.name, code, errOut.String(), want)
		}
		if n := bot.Slack.Connections(); n != connections {
			t.Errorf("serve with %s connected to Slack", c.name)
		}
		if err := c.off(); err != nil {
			t.Fatalf("%s, undone: %v", c.name, err)
		}
	}

	bot.Start(t)
	bot.waitReady(t)
	if _, r := bot.Slash(t, jaUser, "checkin status"); !strings.Contains(r.raw, "16:00") {
		t.Errorf("the check-in set before is gone: %s", r.raw)
	}
	if _, r := bot.Slash(t, jaUser, "言語 en"); !strings.Contains(r.raw, "Language set to") {
		t.Errorf("once the disk is writable, a command fails: %s", r.raw)
	}
}

// aloneEnv marks the test binary run again, alone, by alone.
const aloneEnv = "TRUSTBOT_TEST_ALONE"

// alone runs the test again, alone, in a child process, and reports
// whether this is that child: a test that sets a limit on its own process
// must not impose it on the tests running beside it. In the parent, alone
// waits for the child, reports its outcome and returns false (the test
// then returns).
func alone(t *testing.T) bool {
	t.Helper()
	if os.Getenv(aloneEnv) != "" {
		return true
	}
	t.Parallel() // the test runs in a process of its own
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), aloneEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test, run alone, failed: %v\n%s", err, out)
	}
	t.Logf("run alone:\n%s", out)
	return false
}

// TestWritesRefusedDuringServe: the disk refuses every write under the
// running bot, as a file system remounted read-only after disk errors
// does. The kernel refuses them: the process's file size limit
// (RLIMIT_FSIZE) is lowered to zero, so each write to a file fails with
// EFBIG (Go ignores SIGXFSZ), where a read-only file system answers
// EROFS; SQLite answers both alike, SQLITE_IOERR_WRITE, and rolls the
// transaction back. Unlike a read-only remount or a small disk, this
// needs no mount and no privilege, and runs on any Linux machine.
func TestWritesRefusedDuringServe(t *testing.T) {
	if !alone(t) {
		return
	}
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	setLimit := func(cur uint64) func(*testing.T) {
		return func(t *testing.T) {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: cur, Max: limit.Max}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { setLimit(limit.Cur)(t) })
	bot, _ := storeOf(t, filepath.Join(t.TempDir(), "trustbot.db"), nil)
	testStorageFault(t, bot, storageFault{name: "writes refused by the disk", on: setLimit(0), off: setLimit(limit.Cur), readyz: "disk I/O error"})
}
