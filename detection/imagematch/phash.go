package imagematch

import (
	"math"
	"math/bits"
)

// The 64-bit pHash here is goimagehash v1.1.0's PerceptionHash, computed from an
// already prepared 64×64 picture without the library's per-call costs (a resize that
// is a no-op, 4096 interface calls, a full 64×64 DCT of which 64 coefficients are
// used): about five times faster, which matters because each reference has 32 of them.
// TestPHashMatchesGoimagehash proves the bits equal the library's on the same pixels.

// cos64 holds the DCT-II basis for the 8 lowest frequencies of 64 samples, folded for
// the symmetric and antisymmetric halves: cos64[k][n] = cos(π·k·(2n+1)/128), n < 32.
var cos64 = func() (t [8][32]float64) {
	for k := range 8 {
		for n := range 32 {
			t[k][n] = math.Cos(math.Pi * float64(k) * (2*float64(n) + 1) / 128)
		}
	}
	return t
}()

// pHashCoefficients returns the 8×8 lowest DCT-II coefficients (unscaled, as
// goimagehash computes them) of a 64×64 picture, row-major (ky*8+kx). The basis is even
// about the centre for even frequencies and odd for odd ones, so each 64-sample sum is
// done as a 32-sample sum of x[n]+x[63-n] or x[n]-x[63-n].
func pHashCoefficients(p *[64 * 64]uint8) (c [64]float64) {
	var rows [64][8]float64
	for y := range 64 {
		line := p[y*64 : y*64+64 : y*64+64]
		var s, d [32]float64
		for n := range 32 {
			a, b := float64(line[n]), float64(line[63-n])
			s[n], d[n] = a+b, a-b
		}
		for k := range 8 {
			src := &s
			if k%2 == 1 {
				src = &d
			}
			var acc float64
			for n, v := range src {
				acc += v * cos64[k][n]
			}
			rows[y][k] = acc
		}
	}
	for kx := range 8 {
		var s, d [32]float64
		for n := range 32 {
			a, b := rows[n][kx], rows[63-n][kx]
			s[n], d[n] = a+b, a-b
		}
		for ky := range 8 {
			src := &s
			if ky%2 == 1 {
				src = &d
			}
			var acc float64
			for n, v := range src {
				acc += v * cos64[ky][n]
			}
			c[ky*8+kx] = acc
		}
	}
	return c
}

// pHashBits thresholds 64 coefficients as goimagehash does: bit 63-i is set when
// coefficient i is above the library's median.
func pHashBits(c *[64]float64) uint64 {
	med := goimagehashMedian(*c)
	var h uint64
	for i, v := range c {
		if v > med {
			h |= 1 << (63 - uint(i))
		}
	}
	return h
}

// pHashPair returns the pHash of a 64×64 picture and of its mirror image. Mirroring
// negates the coefficients of odd horizontal frequency (exactly, in the folded sums).
func pHashPair(p *[64 * 64]uint8) (h, mirror uint64) {
	c := pHashCoefficients(p)
	m := c
	for i := range m {
		if i%2 == 1 {
			m[i] = -m[i]
		}
	}
	return pHashBits(&c), pHashBits(&m)
}

// goimagehashMedian is etcs.MedianOfPixelsFast64 of goimagehash v1.1.0, reproduced
// exactly, quirk included: for an even count it averages the k-th smallest value with
// whatever quickselect left at k-1, which is not always the (k-1)-th smallest. Using
// the true median would flip bits against the library's hashes.
func goimagehashMedian(seq [64]float64) float64 {
	low, hi, k := 0, 63, 32
	for low < hi {
		pivot := low/2 + hi/2
		pivotValue := seq[pivot]
		store := low
		seq[pivot], seq[hi] = seq[hi], seq[pivot]
		for i := low; i < hi; i++ {
			if seq[i] < pivotValue {
				seq[store], seq[i] = seq[i], seq[store]
				store++
			}
		}
		seq[hi], seq[store] = seq[store], seq[hi]
		if k <= store {
			hi = store
		} else {
			low = store + 1
		}
	}
	return seq[k-1]/2 + seq[k]/2
}

// dHashOf is goimagehash's DifferenceHash of a prepared 9×8 picture: bit 63-i set when
// pixel i of the 8×8 left-hand grid is darker than its right neighbour.
func dHashOf(p *[9 * 8]uint8, mirror bool) uint64 {
	var h uint64
	idx := 0
	for y := range 8 {
		row := p[y*9 : y*9+9]
		for x := range 8 {
			a, b := row[x], row[x+1]
			if mirror {
				a, b = row[8-x], row[7-x]
			}
			if a < b {
				h |= 1 << (63 - uint(idx))
			}
			idx++
		}
	}
	return h
}

// Distance returns the Hamming distance between two 64-bit hashes.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }
