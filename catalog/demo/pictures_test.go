package demo

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"testing"
)

func TestDesignDeterministic(t *testing.T) {
	a, err := NewDesign("MB-PAR24-TEE-001", KindTShirt, "PARIS2024").JPEG()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDesign("MB-PAR24-TEE-001", KindTShirt, "PARIS2024").JPEG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same SKU drew two different pictures")
	}
	c, err := NewDesign("MB-PAR24-TEE-002", KindTShirt, "PARIS2024").JPEG()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("two SKUs drew the same picture")
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Size || b.Dy() != Size {
		t.Fatalf("picture is %v, want %d×%d", b, Size, Size)
	}
}

func BenchmarkDesignJPEG(b *testing.B) {
	for i := range b.N {
		if _, err := NewDesign(fmt.Sprint("B-", i), Kinds[i%len(Kinds)], "LA28").JPEG(); err != nil {
			b.Fatal(err)
		}
	}
}
