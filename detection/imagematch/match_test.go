package imagematch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"marketplace/detection/imagematch/imagetest"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestMatcher(t *testing.T) {
	h := newTestHasher(t)
	m, err := NewMatcher(DefaultMatchConfig())
	if err != nil {
		t.Fatal(err)
	}
	const refs = 12
	photos := make([]*imageRGBA, refs)
	for i := range refs {
		photos[i] = &imageRGBA{imagetest.SynthPhoto(uint64(100+i), 360, 270)}
		if err := m.Add(int64(1000+i), mustFingerprint(t, h, imagetest.EncodeJPEG(t, photos[i].RGBA, 90))); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != refs {
		t.Fatalf("Len = %d", m.Len())
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, a := range alterations() {
		t.Run("copy/"+a.name, func(t *testing.T) {
			hits := 0
			for i, p := range photos {
				q := mustFingerprint(t, h, imagetest.EncodeJPEG(t, a.fn(p.RGBA, rng), a.jpegQuality))
				ms := m.Match(q)
				for _, mt := range ms {
					if mt.RefID == int64(1000+i) {
						hits++
					} else {
						t.Errorf("copy of %d matched %d (%s, distance %d, correlation %.2f)", 1000+i, mt.RefID, mt.Kind, mt.Distance, mt.Correlation)
					}
				}
			}
			if hits < refs-1 {
				t.Errorf("%d of %d copies found", hits, refs)
			}
		})
	}
	t.Run("unrelated pictures match nothing", func(t *testing.T) {
		for i := range 30 {
			q := mustFingerprint(t, h, imagetest.EncodeJPEG(t, imagetest.SynthPhoto(uint64(5000+i), 360, 270), 90))
			if ms := m.Match(q); len(ms) > 0 {
				t.Errorf("unrelated picture %d matched %+v", i, ms)
			}
		}
	})
	t.Run("ErrNoHashes", func(t *testing.T) {
		if err := m.Add(1, &Fingerprint{}); err != ErrNoHashes {
			t.Errorf("error %v", err)
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		cfg := DefaultMatchConfig()
		cfg.MaxChecks = 0
		if _, err := NewMatcher(cfg); err == nil {
			t.Error("no error")
		}
	})
}

func TestMatcherConcurrent(t *testing.T) {
	h := newTestHasher(t)
	m, err := NewMatcher(DefaultMatchConfig())
	if err != nil {
		t.Fatal(err)
	}
	var fps []*Fingerprint
	for i := range 8 {
		fps = append(fps, mustFingerprint(t, h, imagetest.EncodeJPEG(t, imagetest.SynthPhoto(uint64(i), 200, 150), 90)))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, fp := range fps {
			if err := m.Add(int64(i), fp); err != nil {
				t.Error(err)
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for _, fp := range fps {
				for _, mt := range m.Match(fp) {
					if mt.Distance > DefaultMatchConfig().Radius {
						t.Errorf("match beyond the radius: %+v", mt)
					}
				}
			}
		})
	}
	wg.Wait()
	for i, fp := range fps {
		if ms := m.Match(fp); len(ms) == 0 || ms[0].RefID != int64(i) || ms[0].Distance != 0 {
			t.Errorf("reference %d does not match itself first: %+v", i, ms)
		}
	}
}

func TestScanAndHashFiles(t *testing.T) {
	dir := t.TempDir()
	refs, queries := filepath.Join(dir, "refs"), filepath.Join(dir, "queries")
	for _, d := range []string{refs, queries} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 4 {
		p := imagetest.SynthPhoto(uint64(200+i), 320, 240)
		write(filepath.Join(refs, "ref"+string(rune('a'+i))+".jpg"), imagetest.EncodeJPEG(t, p, 90))
		if i < 2 {
			write(filepath.Join(queries, "copy"+string(rune('a'+i))+".png"), pngOf(t, alterMirror(p, rng)))
		}
	}
	write(filepath.Join(refs, "broken.jpg"), []byte("not a picture"))
	write(filepath.Join(queries, "other.jpg"), imagetest.EncodeJPEG(t, imagetest.SynthPhoto(999, 320, 240), 90))
	write(filepath.Join(queries, "truncated.jpg"), imagetest.EncodeJPEG(t, imagetest.SynthPhoto(998, 320, 240), 90)[:300])
	write(filepath.Join(queries, "notes.txt"), []byte("ignored: not an image extension"))

	t.Run("Scan prints one line per query", func(t *testing.T) {
		var out bytes.Buffer
		if err := Scan(&out, refs, queries, DefaultMatchConfig()); err != nil {
			t.Fatal(err)
		}
		got := map[string]ScanResult{}
		refErrors := 0
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"ref_error"`) {
				refErrors++
				continue
			}
			var r ScanResult
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
			got[filepath.Base(r.Query)] = r
		}
		if refErrors != 1 {
			t.Errorf("%d reference errors, want 1 (broken.jpg)", refErrors)
		}
		for _, q := range []string{"copya.png", "copyb.png"} {
			r := got[q]
			want := "ref" + q[4:5] + ".jpg"
			if !r.Match || r.Ref == nil || filepath.Base(*r.Ref) != want || r.Kind != "phash_mirror" {
				t.Errorf("%s: %+v, want a mirror match of %s", q, r, want)
			}
		}
		if r := got["other.jpg"]; r.Match || r.Ref != nil || r.Error != "" {
			t.Errorf("other.jpg: %+v, want no match", r)
		}
		if r := got["truncated.jpg"]; r.Match || r.Error == "" {
			t.Errorf("truncated.jpg: %+v, want an error", r)
		}
		if len(got) != 4 {
			t.Errorf("%d query lines, want 4", len(got))
		}
	})
	t.Run("HashFiles prints hashes and reports failures", func(t *testing.T) {
		var out bytes.Buffer
		err := HashFiles(&out, []string{filepath.Join(refs, "refa.jpg"), filepath.Join(refs, "broken.jpg")})
		if err == nil || !strings.Contains(err.Error(), "1 of 2") {
			t.Errorf("error %v", err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"phash":"`) || !strings.Contains(lines[1], `"error":"imagematch: not a supported image`) {
			t.Errorf("output:\n%s", out.String())
		}
	})
}
