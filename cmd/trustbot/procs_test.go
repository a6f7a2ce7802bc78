package main

import (
	"runtime"
	"testing"
	"testing/fstest"
)

func TestSetProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	free := fstest.MapFS{
		"proc/self/cgroup":                   {Data: []byte("0::/\n")},
		"sys/fs/cgroup/cpu.max":              {Data: []byte("max 100000\n")},
		"sys/fs/cgroup/cpu/cpu.cfs_quota_us": {Data: []byte("-1\n")},
	}
	quota := fstest.MapFS{
		"proc/self/cgroup":      {Data: []byte("0::/\n")},
		"sys/fs/cgroup/cpu.max": {Data: []byte("50000 100000\n")},
	}
	for _, c := range []struct {
		name       string
		gomaxprocs string // the operator's GOMAXPROCS
		root       fstest.MapFS
		want       int // from the runtime's 2
	}{
		{"no quota", "", free, 4},
		{"under a CPU quota", "", quota, 2},
		{"set by the operator", "2", free, 2},
	} {
		runtime.GOMAXPROCS(2)
		getenv := func(k string) string {
			if k == "GOMAXPROCS" {
				return c.gomaxprocs
			}
			return ""
		}
		if got := setProcs(getenv, c.root); got != c.want || runtime.GOMAXPROCS(0) != c.want {
			t.Errorf("%s: %d (in force %d), want %d", c.name, got, runtime.GOMAXPROCS(0), c.want)
		}
	}
}

func TestCPUQuota(t *testing.T) {
	for _, c := range []struct {
		name string
		fs   fstest.MapFS
		want bool
	}{
		{"nothing readable", fstest.MapFS{}, false},
		{"v2, none", fstest.MapFS{
			"proc/self/cgroup":      {Data: []byte("0::/\n")},
			"sys/fs/cgroup/cpu.max": {Data: []byte("max 100000\n")},
		}, false},
		{"v2, at the root of a container's mount", fstest.MapFS{
			"proc/self/cgroup":      {Data: []byte("0::/\n")},
			"sys/fs/cgroup/cpu.max": {Data: []byte("150000 100000\n")},
		}, true},
		{"v2, on a group above the process's", fstest.MapFS{
			"proc/self/cgroup":                                    {Data: []byte("0::/system.slice/trustbot.service\n")},
			"sys/fs/cgroup/system.slice/cpu.max":                  {Data: []byte("200000 100000\n")},
			"sys/fs/cgroup/system.slice/trustbot.service/cpu.max": {Data: []byte("max 100000\n")},
		}, true},
		{"v1, none", fstest.MapFS{
			"proc/self/cgroup":                   {Data: []byte("4:memory:/x\n1:cpu:/\n0::/\n")},
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us": {Data: []byte("-1\n")},
		}, false},
		{"v1, on the process's group", fstest.MapFS{
			"proc/self/cgroup": {Data: []byte("3:cpu,cpuacct:/kubepods/pod1/c1\n")},
			"sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us": {Data: []byte("50000\n")},
		}, true},
	} {
		if got := cpuQuota(c.fs); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
