package imagematch

// DistinctScreen accepts a picture when a Matcher would not take it for a copy of one it
// accepted before: a pHash more than MinDistinctDistance bits from each, and no match either
// way (mirrored, cropped, turned). The demo catalogue draws its official pictures through one,
// so that official products are never flagged against each other.
type DistinctScreen struct {
	hasher  *Hasher
	matcher *Matcher
	fps     []*Fingerprint
	// Refused counts the pictures Accept turned down.
	Refused int
}

// MinDistinctDistance is the pHash distance two accepted pictures must exceed (the Matcher's
// own radius is 10).
const MinDistinctDistance = 12

// NewDistinctScreen returns an empty screen with the default hashing and matching settings.
func NewDistinctScreen() (*DistinctScreen, error) {
	h, err := NewHasher(DefaultHashConfig())
	if err != nil {
		return nil, err
	}
	m, err := NewMatcher(DefaultMatchConfig())
	if err != nil {
		return nil, err
	}
	return &DistinctScreen{hasher: h, matcher: m}, nil
}

// Accept fingerprints pic and keeps it when it is distinct from every picture accepted so far.
// It returns an error only for a picture that cannot be fingerprinted.
func (s *DistinctScreen) Accept(pic []byte) (bool, error) {
	fp, err := s.hasher.Fingerprint(pic)
	if err != nil {
		return false, err
	}
	ok, err := s.distinct(fp)
	if err != nil || !ok {
		s.Refused++
		return false, err
	}
	if err := s.matcher.Add(int64(len(s.fps)), fp); err != nil {
		return false, err
	}
	s.fps = append(s.fps, fp)
	return true, nil
}

func (s *DistinctScreen) distinct(fp *Fingerprint) (bool, error) {
	ph, _ := fp.Hash(KindPHash)
	for _, o := range s.fps {
		oh, _ := o.Hash(KindPHash)
		if Distance(oh.Value, ph.Value) <= MinDistinctDistance {
			return false, nil
		}
	}
	if len(s.matcher.Match(fp)) > 0 {
		return false, nil
	}
	// The other way round: an earlier picture may be a copy of this one (a crop of it, say).
	one, err := NewMatcher(DefaultMatchConfig())
	if err != nil {
		return false, err
	}
	if err := one.Add(0, fp); err != nil {
		return false, err
	}
	for _, o := range s.fps {
		if len(one.Match(o)) > 0 {
			return false, nil
		}
	}
	return true, nil
}
