package iforest

import "math/rand/v2"

// node is one node of an isolation tree, stored flat in tree.nodes. A leaf
// has feature -1 and carries depth-to-go c(size) precomputed.
type node struct {
	feature     int32
	left, right int32
	split       float64
	// leafPath is c(size) for a leaf: the expected remaining path length of
	// the size training points that were not separated.
	leafPath float64
}

// tree is one isolation tree (iTree).
type tree struct {
	nodes []node
}

// builder grows one tree over a subsample. rows is the whole (imputed)
// training set; idx is this tree's subsample and is permuted in place.
type builder struct {
	rows   [][]float64
	rng    *rand.Rand
	limit  int
	t      *tree
	cand   []int
	lo, hi []float64
}

// grow builds the subtree for idx at depth and returns its node index.
// Following Liu et al. (Algorithm 2), it stops at the height limit or when
// the points cannot be separated, and otherwise splits on a random feature
// at a value drawn uniformly between that feature's minimum and maximum.
func (b *builder) grow(idx []int, depth int) int32 {
	me := int32(len(b.t.nodes))
	b.t.nodes = append(b.t.nodes, node{feature: -1})
	if depth >= b.limit || len(idx) <= 1 {
		b.t.nodes[me].leafPath = AveragePathLength(len(idx))
		return me
	}
	// NB: choosing among the features that vary in this node is the same
	// distribution as the paper's "pick any, retry if constant", without
	// the retries; if none varies the points are duplicates and stay a leaf.
	b.cand = b.cand[:0]
	for j := range b.lo {
		lo, hi := b.rows[idx[0]][j], b.rows[idx[0]][j]
		for _, i := range idx[1:] {
			v := b.rows[i][j]
			lo, hi = min(lo, v), max(hi, v)
		}
		b.lo[j], b.hi[j] = lo, hi
		if lo < hi {
			b.cand = append(b.cand, j)
		}
	}
	if len(b.cand) == 0 {
		b.t.nodes[me].leafPath = AveragePathLength(len(idx))
		return me
	}
	q := b.cand[b.rng.IntN(len(b.cand))]
	p := b.lo[q] + b.rng.Float64()*(b.hi[q]-b.lo[q])
	// Partition idx in place: x[q] < p to the left.
	k := 0
	for i, r := range idx {
		if b.rows[r][q] < p {
			idx[i], idx[k] = idx[k], idx[i]
			k++
		}
	}
	left := b.grow(idx[:k], depth+1)
	right := b.grow(idx[k:], depth+1)
	b.t.nodes[me] = node{feature: int32(q), split: p, left: left, right: right}
	return me
}

// pathLength returns h(x): the number of edges from the root to the leaf x
// falls in, plus that leaf's c(size).
func (t *tree) pathLength(x []float64) float64 {
	n, depth := int32(0), 0.0
	for {
		nd := &t.nodes[n]
		if nd.feature < 0 {
			return depth + nd.leafPath
		}
		if x[nd.feature] < nd.split {
			n = nd.left
		} else {
			n = nd.right
		}
		depth++
	}
}
