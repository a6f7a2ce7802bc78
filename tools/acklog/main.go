// Command acklog tells where the time of a Slack burst's acks went, from
// the logs the burst benchmark writes with TRUSTBOT_BENCH_ACKLOG=F
// (cmd/trustbot/bench_test.go): F.0, how trustbot sent each ack, and
// F.harness, when the fake Slack sent each envelope and read its ack back.
//
//	TRUSTBOT_BENCH_ACKLOG=/tmp/run1 go test ./cmd/trustbot -run '^$' -bench '^BenchmarkBurst$/n=300' -benchtime 10x
//	go run ./tools/acklog /tmp/run1 [/tmp/run2 …]
//
// For each run, over trustbot's bursts (the first command of each user
// left out): its ack p99 and the bare client's, each burst's p99, what
// the acks were (see slack.AckHow), and for the acks at or over the p99
// what they were, which bursts they came from and where their time went:
// in, from the envelope sent to its frame read by trustbot; inside, from
// the frame read to the ack written; out, from the ack written to the
// fake Slack reading it. Last, the held acks' time inside by the queue
// ahead when they were read.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

type ack struct {
	burst                  int
	side                   string // trustbot, bare or other (see sendBurst)
	sent, received         int64  // Unix ns, as the fake Slack saw them
	how                    string
	read, written          int64 // Unix ns, as trustbot saw them
	waiting, busy          int
	paced, found, answered bool
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: acklog F [F …]   (F: TRUSTBOT_BENCH_ACKLOG of a benchmark run)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var held []ack
	for _, f := range flag.Args() {
		acks, err := load(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		report(f, acks)
		for _, a := range acks {
			if a.side == "trustbot" && a.found && a.how != "at-once" && a.how != "busy" {
				held = append(held, a)
			}
		}
	}
	byQueue(held)
}

// load reads F.0 and F.harness.
func load(prefix string) ([]ack, error) {
	bot := map[string]ack{}
	err := lines(prefix+".0", func(f []string) error {
		if len(f) != 7 {
			return fmt.Errorf("%d fields", len(f))
		}
		var a ack
		a.how = f[1]
		a.read, _ = strconv.ParseInt(f[2], 10, 64)
		a.written, _ = strconv.ParseInt(f[3], 10, 64)
		a.waiting, _ = strconv.Atoi(f[4])
		a.busy, _ = strconv.Atoi(f[5])
		a.paced = f[6] == "true"
		bot[f[0]] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	var acks []ack
	err = lines(prefix+".harness", func(f []string) error {
		if len(f) != 7 {
			return fmt.Errorf("%d fields", len(f))
		}
		a := bot[f[3]]
		_, a.found = bot[f[3]]
		a.burst, _ = strconv.Atoi(f[0])
		a.side = f[1]
		a.sent, _ = strconv.ParseInt(f[4], 10, 64)
		a.received, _ = strconv.ParseInt(f[5], 10, 64)
		a.answered = f[6] == "true"
		acks = append(acks, a)
		return nil
	})
	return acks, err
}

func lines(name string, each func([]string) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if err := each(strings.Fields(s.Text())); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return s.Err()
}

func ms(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// pct is the p quantile of xs, as the benchmark takes it.
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func report(name string, acks []ack) {
	var tb, bare []float64
	hows := map[string]int{}
	for _, a := range acks {
		switch a.side {
		case "trustbot":
			tb = append(tb, ms(a.received-a.sent))
			hows[a.how]++
		case "bare":
			bare = append(bare, ms(a.received-a.sent))
		}
	}
	p99, bp99 := pct(tb, 0.99), pct(bare, 0.99)
	fmt.Printf("%s: ack p99 %.1f ms, bare %.1f ms (÷ %.2f); acks %v\n", name, p99, bp99, p99/bp99, counts(hows))
	fmt.Printf("  p99 by burst: %s\n", byBurst(acks))
	tops, bursts, where := map[string]int{}, map[int]int{}, map[string]int{}
	var in, inside, out float64
	n := 0
	for _, a := range acks {
		if a.side != "trustbot" || ms(a.received-a.sent) < p99 || !a.found {
			continue
		}
		n++
		tops[a.how]++
		bursts[a.burst]++
		i, s, o := ms(a.read-a.sent), ms(a.written-a.read), ms(a.received-a.written)
		in, inside, out = in+i, inside+s, out+o
		switch {
		case s >= i && s >= o:
			where["inside, "+a.how]++
		case i >= o:
			where["in"]++
		default:
			where["out"]++
		}
	}
	if n == 0 {
		return
	}
	fmt.Printf("  the %d at or over it: %v; bursts %v\n", n, counts(tops), bursts)
	fmt.Printf("  mean in / inside / out: %.1f / %.1f / %.1f ms; most of their time: %v\n", in/float64(n), inside/float64(n), out/float64(n), counts(where))
}

// byBurst is each burst's ack p99, in the order the bursts ran, marked t
// for trustbot's and b for the bare client's: a burst slower than the
// others of its side stands out.
func byBurst(acks []ack) string {
	type key struct {
		burst int
		side  string
	}
	var order []key
	of := map[key][]float64{}
	for _, a := range acks {
		if a.side != "trustbot" && a.side != "bare" {
			continue
		}
		k := key{a.burst, a.side}
		if _, ok := of[k]; !ok {
			order = append(order, k)
		}
		of[k] = append(of[k], ms(a.received-a.sent))
	}
	var b strings.Builder
	for i, k := range order {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d%c %.1f", k.burst, k.side[0], pct(of[k], 0.99))
	}
	return b.String()
}

func counts[K comparable](m map[K]int) string {
	type kv struct {
		k K
		v int
	}
	var s []kv
	for k, v := range m {
		s = append(s, kv{k, v})
	}
	slices.SortFunc(s, func(a, b kv) int { return b.v - a.v })
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v %d", e.k, e.v)
	}
	return b.String()
}

// byQueue tells the held acks' time from the frame read to the ack
// written, and how many carried the answer, by the jobs queued when the
// frame was read and whether a time per job was known then.
func byQueue(held []ack) {
	if len(held) == 0 {
		return
	}
	fmt.Println("held acks, frame read → ack written, by the queue when read:")
	for _, paced := range []bool{false, true} {
		for _, r := range [][2]int{{0, 8}, {8, 32}, {32, 64}, {64, 1 << 30}} {
			var xs []float64
			answered := 0
			for _, a := range held {
				if a.paced == paced && a.waiting >= r[0] && a.waiting < r[1] {
					xs = append(xs, ms(a.written-a.read))
					if a.how == "answer" {
						answered++
					}
				}
			}
			if len(xs) == 0 {
				continue
			}
			upTo := strconv.Itoa(r[1] - 1)
			if r[1] == 1<<30 {
				upTo = "…"
			}
			fmt.Printf("  paced %-5t queue %2d–%-3s %6d acks, %3.0f%% with the answer; p50 %.2f p90 %.2f p99 %.2f ms\n",
				paced, r[0], upTo, len(xs), 100*float64(answered)/float64(len(xs)), pct(xs, 0.5), pct(xs, 0.9), pct(xs, 0.99))
		}
	}
}
