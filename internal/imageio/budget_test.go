package imageio

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAcquirePixelsSharesOneBudget: pictures wait while the pixels in flight would pass
// PixelBudget, a picture larger than the budget takes all of it, and a caller that stops
// waiting gets its context's error.
func TestAcquirePixelsSharesOneBudget(t *testing.T) {
	ctx := context.Background()
	first, err := AcquirePixels(ctx, PixelBudget*2/3)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := AcquirePixels(short, PixelBudget/2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second picture past the budget: %v, want it to wait until its deadline", err)
	}
	got := make(chan func())
	go func() {
		r, err := AcquirePixels(ctx, PixelBudget*10) // larger than the whole budget
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("a picture larger than the budget did not wait for the one in flight")
	case <-time.After(50 * time.Millisecond):
	}
	first()
	select {
	case r := <-got:
		r()
	case <-time.After(5 * time.Second):
		t.Fatal("a picture larger than the budget never got it")
	}
	r, err := AcquirePixels(ctx, PixelBudget)
	if err != nil {
		t.Fatal(err)
	}
	r()
}
