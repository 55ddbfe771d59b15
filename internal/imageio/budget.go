package imageio

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// PixelBudget is how many pixels every decoder in the process may hold decoded at once: the
// catalogue making renditions, detection fingerprinting listings and fans' photos. A 16-bit
// RGBA picture takes 8 bytes a pixel once decoded, so the budget bounds decoding to about
// 400 MB whatever the public sends at once.
const PixelBudget = 48_000_000

var pixels = semaphore.NewWeighted(PixelBudget)

// AcquirePixels waits until a picture of n pixels may be decoded and returns the function
// that gives them back, which the caller calls once the decoded pixels are dropped. A
// picture larger than the whole budget waits for all of it. Returns ctx's error when it ends
// first.
func AcquirePixels(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, 1), PixelBudget)
	if err := pixels.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { pixels.Release(n) }, nil
}
