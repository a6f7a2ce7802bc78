package main

import (
	"runtime"
	"testing"
	"testing/fstest"
)

func TestSetProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	noEnv := func(string) string { return "" }
	free := fstest.MapFS{
		"proc/self/cgroup":                   {Data: []byte("0::/\n")},
		"sys/fs/cgroup/cpu.max":              {Data: []byte("max 100000\n")},
		"sys/fs/cgroup/cpu/cpu.cfs_quota_us": {Data: []byte("-1\n")},
	}
	quota := fstest.MapFS{
		"proc/self/cgroup":      {Data: []byte("0::/\n")},
		"sys/fs/cgroup/cpu.max": {Data: []byte("50000 100000\n")},
	}

	runtime.GOMAXPROCS(2)
	if got := setProcs(noEnv, free); got != 4 || runtime.GOMAXPROCS(0) != 4 {
		t.Errorf("no quota: %d (in force %d), want 4", got, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(2)
	if got := setProcs(noEnv, quota); got != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Errorf("under a CPU quota: %d, want the runtime's 2", got)
	}
	runtime.GOMAXPROCS(2)
	operator := func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}
	if got := setProcs(operator, free); got != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Errorf("set by the operator: %d, want it left at 2", got)
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
