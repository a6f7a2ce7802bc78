package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
)

// TestOneInstancePerDatabase: while "trustbot serve" runs on a database in
// one process, a second serve on the same file (another process) is
// refused at once with a message naming the first, and so are the other
// commands that send or change the schema (dispatch, console, migrate);
// commands that only read or copy run beside it. When the first process
// is killed, the lock goes with it and a new serve starts.
func TestOneInstancePerDatabase(t *testing.T) {
	testdb.SQLiteOnly(t, "the instance lock is a lock on the SQLite file; PostgreSQL replicas claim row by row")
	t.Parallel() // it mostly waits on child processes of its own
	if testing.Short() {
		t.Skip("starts child processes")
	}
	fake := fakeslack.New()
	defer fake.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "trustbot.db")
	vars := map[string]string{
		"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL(), "TRUSTBOT_DB": path,
	}
	env := append(os.Environ(), mainChildEnv+"=1")
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	start := func() (*exec.Cmd, *syncBuffer, chan error) {
		var stderr syncBuffer
		cmd := exec.Command(os.Args[0], "serve")
		cmd.Env, cmd.Stderr = env, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, &stderr, done
	}

	first, firstErr, firstDone := start()
	defer first.Process.Kill()
	if err := fake.WaitConnections(ctxTimeout(t), 1); err != nil {
		t.Fatalf("first serve did not connect: %v\n%s", err, firstErr)
	}

	// A second serve, in a process of its own, stops at once.
	second, secondErr, secondDone := start()
	select {
	case err := <-secondDone:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("second serve: %v, want exit status 1\n%s", err, secondErr)
		}
	case <-time.After(patience):
		second.Process.Kill()
		t.Fatalf("a second serve on the same database kept running\n%s", secondErr)
	}
	msg := secondErr.String()
	for _, want := range []string{"already running on " + path, "serve, pid " + strconv.Itoa(first.Process.Pid), "--db"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal lacks %q: %s", want, msg)
		}
	}
	if n := fake.Connections(); n != 1 {
		t.Errorf("%d connections to Slack: the second serve connected", n)
	}

	// The other commands that send or migrate are refused the same way.
	for _, args := range [][]string{
		{"dispatch"},
		{"console"},
		{"migrate"},
	} {
		code, out, errOut := runCmd(t, vars, "help\n", args...)
		if code != 1 || !strings.Contains(errOut, "already running on "+path) {
			t.Errorf("%v beside a running serve: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// Reading and copying run beside it.
	for _, args := range [][]string{
		{"dispatch", "--dry-run"},
		{"export", "--team", fakeslack.TeamID, "--user", "U1"},
		{"backup", filepath.Join(dir, "copy.db")},
	} {
		if code, out, errOut := runCmd(t, vars, "", args...); code != 0 {
			t.Errorf("%v beside a running serve: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	st, err := os.Stat(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", st.Mode().Perm())
	}

	// SIGKILL leaves no stale lock: a new serve starts.
	first.Process.Kill()
	<-firstDone
	third, thirdErr, thirdDone := start()
	defer third.Process.Kill()
	if err := fake.WaitConnections(ctxTimeout(t), 2); err != nil {
		t.Fatalf("serve after the first was killed did not connect: %v\n%s", err, thirdErr)
	}
	select {
	case err := <-thirdDone:
		t.Fatalf("serve after the first was killed exited: %v\n%s", err, thirdErr)
	default:
	}
	third.Process.Signal(os.Interrupt)
	if err := <-thirdDone; err != nil {
		t.Errorf("serve after SIGINT: %v\n%s", err, thirdErr)
	}
	// Once it has stopped, the commands it excluded run.
	if code, out, errOut := runCmd(t, vars, "", "migrate"); code != 0 {
		t.Errorf("migrate after serve stopped: exit %d\n%s%s", code, out, errOut)
	}
}
