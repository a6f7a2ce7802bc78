package schedule_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/internal/fakeslack"
	"github.com/trustbot/trustbot/internal/testdb"
)

// BenchmarkDispatchThroughput fans out to 1,000 due users through the real
// store, adapter and coach into a fake Slack that never limits: at the
// highest send rate the configuration accepts (1000/s), and unpaced, to
// show the dispatcher's own ceiling. It reports deliveries per second of
// pass time (seeding is not timed).
func BenchmarkDispatchThroughput(b *testing.B) {
	const n = 1000
	for _, bc := range []struct {
		name string
		rate float64
	}{
		{"rate=1000", 1000},
		{"rate=unpaced", 1e9},
	} {
		b.Run(fmt.Sprintf("users=%d/%s", n, bc.name), func(b *testing.B) {
			r := newRig(b, bc.rate)
			var passTime time.Duration
			sent := 0
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				us := users(fmt.Sprintf("T%03d", i), n)
				at := time.Now().UTC().Truncate(time.Second)
				r.seed(b, us, at, "UTC")
				b.StartTimer()
				start := time.Now()
				rep, err := r.disp.Pass(context.Background(), at, false)
				passTime += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Sent != n {
					b.Fatalf("report %+v, want %d sent", rep, n)
				}
				sent += rep.Sent
			}
			b.ReportMetric(float64(sent)/passTime.Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkPacing fans out to 200 due users at a send rate of 20 and 50
// messages a second, and measures the rate Slack saw, from the fake's call
// times: achieved (first to last call), the busiest one-second window, and
// achieved/allowed (target: at least 0.95, with the burst of 8 on top).
func BenchmarkPacing(b *testing.B) {
	const n = 200
	for _, rate := range []float64{20, 50} {
		b.Run(fmt.Sprintf("rate=%g/users=%d", rate, n), func(b *testing.B) {
			var achieved, peak float64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				r := newRig(b, rate)
				us := users(fmt.Sprintf("P%03d", i), n)
				at := time.Now().UTC().Truncate(time.Second)
				r.seed(b, us, at, "UTC")
				b.StartTimer()
				rep, err := r.disp.Pass(context.Background(), at, false)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Sent != n {
					b.Fatalf("report %+v, want %d sent", rep, n)
				}
				calls := r.fake.Calls(postMessage)
				span := calls[len(calls)-1].At.Sub(calls[0].At)
				achieved = float64(len(calls)-1) / span.Seconds()
				peak = 0
				for j, c := range calls {
					k := j
					for k < len(calls) && calls[k].At.Sub(c.At) < time.Second {
						k++
					}
					peak = max(peak, float64(k-j))
				}
			}
			b.ReportMetric(rate, "allowed/s")
			b.ReportMetric(achieved, "achieved/s")
			b.ReportMetric(achieved/rate, "achieved/allowed")
			b.ReportMetric(peak, "peak-1s-window")
		})
	}
}

// procStatus reads a memory figure (kB) from /proc/self/status.
func procStatus(field string) (float64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// BenchmarkMemory100kUsers keeps 100,000 schedules in the store and runs a
// pass with 10 of them due: memory must follow what is due, not the users.
// It reports the process's peak RSS during the pass (VmHWM, reset just
// before it through /proc/self/clear_refs), its growth over the RSS before
// the pass, and the Go heap in use right after it.
func BenchmarkMemory100kUsers(b *testing.B) {
	const total, due = 100_000, 10
	testdb.SQLiteOnly(b, "the schedules are bulk-inserted with SQLite's SQL")
	r := newRig(b, 1000)
	at := time.Now().UTC().Truncate(time.Second)
	// 99,990 schedules due in the coming week, bulk-inserted; 10 due now,
	// through the store like any other.
	raw, err := sql.Open("sqlite", "file:"+r.store.DSN+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := raw.Exec(`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
		INSERT INTO schedules (team, user, cadence, weekday, month_day, week, minute, anchor, active, stopped, occurrence, next_due_at, updated_at)
		SELECT ?, printf('UIDLE%08d', i), 'weekly', 5, 0, 0, 960, '', 1, '', ?, ? + 3600 + (i * 7919) % 604800, ?
		FROM seq`, total-due, fakeslack.TeamID, at.Format(time.DateOnly), at.Unix(), at.Unix()); err != nil {
		b.Fatal(err)
	}
	raw.Close()
	var peak, growth, heap float64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		r.seed(b, users(fmt.Sprintf("M%03d", i), due), at, "UTC")
		runtime.GC()
		debug.FreeOSMemory()
		reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
		before, _ := procStatus("VmRSS")
		b.StartTimer()
		rep, err := r.disp.Pass(context.Background(), at, false)
		b.StopTimer()
		if err != nil || rep.Sent != due {
			b.Fatalf("report %+v %v, want %d sent", rep, err, due)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		hwm, ok := procStatus("VmHWM")
		if !ok {
			b.Skip("no /proc/self/status")
		}
		if !reset {
			b.Logf("could not reset VmHWM: it is the process's lifetime peak")
		}
		peak, growth, heap = hwm/1024, (hwm-before)/1024, float64(ms.HeapInuse)/(1<<20)
		b.StartTimer()
	}
	b.ReportMetric(total, "schedules")
	b.ReportMetric(peak, "peak-RSS-MB")
	b.ReportMetric(growth, "RSS-growth-MB")
	b.ReportMetric(heap, "HeapInuse-MB")
}
