package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"marketplace/storefront"
)

// bigPNG builds a w×h 16-bit RGBA PNG whose rows all repeat one pattern, so that the file is
// small (deflate) while decoding it takes w×h×8 bytes.
func bigPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	chunk := func(out *bytes.Buffer, kind string, data []byte) {
		binary.Write(out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		io.WriteString(crc, kind)
		crc.Write(data)
		out.WriteString(kind)
		out.Write(data)
		binary.Write(out, binary.BigEndian, crc.Sum32())
	}
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits a sample, RGBA
	chunk(&out, "IHDR", ihdr)
	row := make([]byte, 1+w*8) // filter byte 0, then the pixels
	for x := range w {
		v := byte(x % 64 * 4) // a short period, which deflate finds within its window
		copy(row[1+x*8:], []byte{v, v, 255 - v, v, v, 0, 255, 255})
	}
	var idat bytes.Buffer
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	for range h {
		if _, err := zw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk(&out, "IDAT", idat.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

// TestPhotoCheckMemoryIsBounded: anonymous fans uploading huge 16-bit PNGs to /verify/photo
// at once (each small as a file, 40 megapixels, 320 MB once decoded) do not take the server's
// memory past its limit: the Go heap stays under heapLimit while they are answered, and the
// uploads past the per-address limit are a 429.
func TestPhotoCheckMemoryIsBounded(t *testing.T) {
	const (
		uploads   = 4
		heapLimit = 400 << 20
	)
	m, _ := runMain(t, "WORKERS", "1")
	photo := bigPNG(t, 8000, 5000)
	if len(photo) > 8<<20 {
		t.Fatalf("the test photo is %d bytes, over the upload limit", len(photo))
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("photo", "huge.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(photo)
	mw.Close()

	// A fan's browser: the page first, for the form's CSRF token.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 50 * time.Second}
	resp, err := browser.Get(m.url("/verify/photo"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	token := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "_csrf" {
			token = ck.Value
		}
	}
	if resp.StatusCode != http.StatusOK || token == "" {
		t.Fatalf("GET /verify/photo: %d, CSRF token %q", resp.StatusCode, token)
	}

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	statuses := make([]int, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, m.url("/verify/photo"), bytes.NewReader(body.Bytes()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Accept", "application/json")
			req.Header.Set("X-CSRF-Token", token)
			resp, err := browser.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("%d concurrent 40 MP 16-bit PNG checks: statuses %v, peak Go heap %d MB", uploads, statuses, peak.Load()>>20)
	if peak.Load() > heapLimit {
		t.Errorf("the Go heap reached %d MB, over %d MB", peak.Load()>>20, heapLimit>>20)
	}
	for i, st := range statuses {
		if st < 400 || st >= 500 || st == http.StatusForbidden {
			t.Errorf("upload %d: status %d, want a 4xx (too many pixels for an anonymous check, or 429)", i, st)
		}
	}

	// The same address goes on sending: past the burst, it is told to wait.
	limited := false
	for range storefront.PhotoCheckBurst + 1 {
		req, err := http.NewRequest(http.MethodPost, m.url("/verify/photo"), bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-CSRF-Token", token)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp.Header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Errorf("%d more photo checks from one address: none was a 429 with Retry-After", storefront.PhotoCheckBurst+1)
	}
}
