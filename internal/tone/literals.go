package tone

import "slices"

// literalIndex finds which of a fixed set of literals occur in a text in
// one pass (Aho-Corasick over bytes), so that a draft is scanned once for
// the literals of every pattern instead of once per pattern. Transitions
// are kept sparse: the content has thousands of literal bytes.
type literalIndex struct {
	edges [][]edge  // per state, sorted by byte
	fail  []int32   // failure link of each state
	out   [][]int32 // literal IDs that end at each state (own and via fail)
	n     int       // number of literals
}

type edge struct {
	c  byte
	to int32
}

func (ix *literalIndex) child(s int32, c byte) int32 {
	es := ix.edges[s]
	i, ok := slices.BinarySearchFunc(es, c, func(e edge, c byte) int { return int(e.c) - int(c) })
	if !ok {
		return -1
	}
	return es[i].to
}

func newLiteralIndex(lits []string) *literalIndex {
	ix := &literalIndex{edges: make([][]edge, 1), out: make([][]int32, 1), n: len(lits)}
	for id, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			t := ix.child(s, l[i])
			if t < 0 {
				t = int32(len(ix.edges))
				ix.edges = append(ix.edges, nil)
				ix.out = append(ix.out, nil)
				es := append(ix.edges[s], edge{l[i], t})
				slices.SortFunc(es, func(a, b edge) int { return int(a.c) - int(b.c) })
				ix.edges[s] = es
			}
			s = t
		}
		ix.out[s] = append(ix.out[s], int32(id))
	}
	// Breadth first: a state's failure link is final before its children
	// are reached.
	ix.fail = make([]int32, len(ix.edges))
	queue := []int32{}
	for _, e := range ix.edges[0] {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		ix.out[s] = append(ix.out[s], ix.out[ix.fail[s]]...)
		for _, e := range ix.edges[s] {
			f := ix.fail[s]
			for f > 0 && ix.child(f, e.c) < 0 {
				f = ix.fail[f]
			}
			if t := ix.child(f, e.c); t >= 0 && t != e.to {
				ix.fail[e.to] = t
			}
			queue = append(queue, e.to)
		}
	}
	return ix
}

// find returns, for each literal ID, whether it occurs in s.
func (ix *literalIndex) find(s string) []bool {
	seen := make([]bool, ix.n)
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		for st > 0 && ix.child(st, c) < 0 {
			st = ix.fail[st]
		}
		if t := ix.child(st, c); t >= 0 {
			st = t
		}
		for _, id := range ix.out[st] {
			seen[id] = true
		}
	}
	return seen
}
