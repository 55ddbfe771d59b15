package catalog

import "context"

// listingCounts counts a seller's listings by status, for the portal's summary.
func (s *Service) listingCounts(ctx context.Context, sellerID int64) (map[ListingStatus]int, error) {
	rows, err := s.db.Query(ctx, `SELECT status, count(*) FROM listings WHERE seller_id = $1 GROUP BY status`, sellerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[ListingStatus]int{}
	for rows.Next() {
		var st ListingStatus
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
