package iforest

import "math"

// eulerGamma is the Euler–Mascheroni constant γ.
const eulerGamma = 0.57721566490153286060651209008240243

// harmonicSumLimit is the largest k for which Harmonic sums the series;
// above it the asymptotic expansion is exact to double precision.
const harmonicSumLimit = 1000

// Harmonic returns the harmonic number H(k) = 1 + 1/2 + … + 1/k (0 for
// k <= 0). Liu et al. approximate it by ln(k) + γ; the exact value is used
// here because it costs nothing at the sample sizes involved and makes c(2)
// exactly 1.
func Harmonic(k int) float64 {
	if k <= 0 {
		return 0
	}
	if k <= harmonicSumLimit {
		h := 0.0
		// Summing the small terms first loses less precision.
		for i := k; i >= 1; i-- {
			h += 1 / float64(i)
		}
		return h
	}
	x := float64(k)
	x2 := x * x
	return math.Log(x) + eulerGamma + 1/(2*x) - 1/(12*x2) + 1/(120*x2*x2)
}

// AveragePathLength returns c(n), the average path length of an unsuccessful
// search in a binary search tree of n points (Liu et al. 2008, eq. 1):
// c(n) = 2H(n−1) − 2(n−1)/n for n > 2, c(2) = 1, and 0 for n < 2. It
// normalises path lengths, and it estimates the depth still to go below a
// leaf that holds n points when the tree's height limit stopped splitting.
func AveragePathLength(n int) float64 {
	switch {
	case n < 2:
		return 0
	case n == 2:
		return 1
	}
	return 2*Harmonic(n-1) - 2*float64(n-1)/float64(n)
}
