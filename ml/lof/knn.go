package lof

import (
	"math"
	"sync"
	"sync/atomic"
)

// hood is the k-distance neighbourhood of one location: the indices of the
// other locations within k-distance, their distances, and k-distance.
type hood struct {
	idx   []int32
	dist  []float64
	kdist float64
}

// neighbours finds every location's neighbourhood by exact search over all
// pairs, in parallel over locations. Each location is computed
// independently, so the result does not depend on scheduling.
func neighbours(locs [][]float64, k, workers int) []hood {
	// One contiguous block keeps the all-pairs scan in cache.
	cols := len(locs[0])
	flat := make([]float64, 0, len(locs)*cols)
	for _, l := range locs {
		flat = append(flat, l...)
	}
	out := make([]hood, len(locs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(locs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &searcher{d2: make([]float64, len(locs)), heap: make([]float64, 0, k)}
			for {
				p := int(next.Add(1) - 1)
				if p >= len(locs) {
					return
				}
				out[p] = s.hood(flat, cols, p, k)
			}
		}()
	}
	wg.Wait()
	return out
}

// searcher holds one worker's scratch space.
type searcher struct {
	d2   []float64
	heap []float64 // max-heap of the k smallest squared distances so far
}

func (s *searcher) hood(flat []float64, cols, p, k int) hood {
	s.heap = s.heap[:0]
	x := flat[p*cols : (p+1)*cols]
	for q := range s.d2 {
		y := flat[q*cols : (q+1)*cols]
		y = y[:len(x)] // NB: lets the compiler drop bounds checks below
		if q == p {
			s.d2[q] = math.Inf(1)
			continue
		}
		d := 0.0
		for j, v := range x {
			diff := v - y[j]
			d += diff * diff
		}
		s.d2[q] = d
		s.push(d, k)
	}
	// The heap's top is the k-th smallest squared distance; a second pass
	// collects every location at most that far, ties included.
	kd2 := s.heap[0]
	h := hood{kdist: math.Sqrt(kd2)}
	for q, d := range s.d2 {
		if d <= kd2 {
			h.idx = append(h.idx, int32(q))
			h.dist = append(h.dist, math.Sqrt(d))
		}
	}
	return h
}

// push offers d to the bounded max-heap of the k smallest values.
func (s *searcher) push(d float64, k int) {
	h := s.heap
	if len(h) < k {
		h = append(h, d)
		// Sift up.
		for i := len(h) - 1; i > 0; {
			parent := (i - 1) / 2
			if h[parent] >= h[i] {
				break
			}
			h[parent], h[i] = h[i], h[parent]
			i = parent
		}
		s.heap = h
		return
	}
	if d >= h[0] {
		return
	}
	h[0] = d
	// Sift down.
	for i := 0; ; {
		l, big := 2*i+1, i
		if l < len(h) && h[l] > h[big] {
			big = l
		}
		if r := l + 1; r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
