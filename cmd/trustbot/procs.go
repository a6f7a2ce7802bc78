package main

import (
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// setProcs gives the Go scheduler twice as many processors (GOMAXPROCS)
// as the runtime chose, unless the operator set GOMAXPROCS or a CPU quota
// applies. It returns the number in force.
//
// In a burst of commands the acks that go at once came late behind the
// workers; with twice the processors the ack p99 of a 300 burst fell from
// 11.2 to 9.7 ms (docs/benchmarks.md, "Own reader"). The likely cause,
// from how the scheduler works: with every processor running a worker,
// the goroutine that reads Slack's socket, blocked on the network, waits
// until a processor runs out of work and polls it (or the runtime's
// monitor does, within 10 ms); with more processors than CPUs one is free
// more often, and the kernel shares the CPUs between the reader and the
// workers. Under a CPU quota, threads beyond it would only be throttled,
// so a quota leaves the runtime's choice as it is.
func setProcs(getenv func(string) string, root fs.FS) int {
	n := runtime.GOMAXPROCS(0)
	if getenv("GOMAXPROCS") != "" || cpuQuota(root) {
		return n
	}
	runtime.GOMAXPROCS(2 * n)
	return 2 * n
}

// hostRoot is the file system setProcs reads the cgroups from.
func hostRoot() fs.FS { return os.DirFS("/") }

// cpuQuota reports whether a cgroup CPU quota applies to this process: a
// cpu.max (cgroup v2) or cpu.cfs_quota_us (v1) that sets one, in the
// process's group or a group above it, down to the root of the mount (a
// container's own group).
func cpuQuota(root fs.FS) bool {
	const mount = "sys/fs/cgroup"
	v2, v1 := "/", "/"
	if b, err := fs.ReadFile(root, "proc/self/cgroup"); err == nil {
		for line := range strings.Lines(string(b)) {
			id, rest, _ := strings.Cut(strings.TrimSpace(line), ":")
			ctrls, group, ok := strings.Cut(rest, ":")
			switch {
			case !ok:
			case id == "0" && ctrls == "":
				v2 = group
			case slices.Contains(strings.Split(ctrls, ","), "cpu"):
				v1 = group
			}
		}
	}
	if quotaAbove(root, mount, v2, "cpu.max") {
		return true
	}
	for _, dir := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
		if quotaAbove(root, path.Join(mount, dir), v1, "cpu.cfs_quota_us") {
			return true
		}
	}
	return false
}

// quotaAbove reports whether file sets a quota in group under dir, or in
// a group above it.
func quotaAbove(root fs.FS, dir, group, file string) bool {
	for p := path.Clean("/" + group); ; p = path.Dir(p) {
		if quotaIn(root, path.Join(dir, p, file)) {
			return true
		}
		if p == "/" {
			return false
		}
	}
}

// quotaIn reports whether a cpu.max ("max 100000" or "50000 100000") or
// a cpu.cfs_quota_us ("-1" or "50000") sets a quota.
func quotaIn(root fs.FS, file string) bool {
	b, err := fs.ReadFile(root, file)
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false
	}
	q, err := strconv.ParseInt(f[0], 10, 64)
	return err == nil && q > 0
}
