package review

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"marketplace/internal/fault"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviewMetrics is what the brand-protection lead watches: how each rule performs, how fast
// cases are decided, who decides them, and where the fakes are.
type Metrics struct {
	Since      time.Time        `json:"since"`
	Days       int              `json:"days"`
	Rules      []RuleMetric     `json:"rules"`
	Decided    int              `json:"decided"`           // cases closed by a decision in the window
	MedianWait time.Duration    `json:"median_wait_ns"`    // flag (case opened) to its closing decision
	Backlog    Backlog          `json:"backlog"`           // now
	Analysts   []AnalystMetric  `json:"analysts"`          // decisions in the window
	Properties []PropertyMetric `json:"properties"`        // decided cases in the window
	Sources    map[string]int   `json:"sources,omitempty"` // cases opened in the window, by source
}

// RuleMetric is one rule: the cases it flagged, how many were decided, and how many of those
// were confirmed (counterfeit or unauthorised_seller). Precision is Confirmed ÷ Decided, NaN
// while nothing is decided.
type RuleMetric struct {
	Rule      string  `json:"rule"`
	Flags     int     `json:"flags"`
	Decided   int     `json:"decided"`
	Confirmed int     `json:"confirmed"`
	Precision float64 `json:"-"`
}

// AnalystMetric counts one analyst's decisions by kind.
type AnalystMetric struct {
	Analyst      string `json:"analyst"`
	Total        int    `json:"total"`
	Counterfeit  int    `json:"counterfeit"`
	Unauthorised int    `json:"unauthorised_seller"`
	Authentic    int    `json:"authentic"`
	MoreInfo     int    `json:"more_info"`
}

// PropertyMetric is the share of decided cases about a property that were counterfeit.
type PropertyMetric struct {
	Property    string  `json:"property"`
	Decided     int     `json:"decided"`
	Counterfeit int     `json:"counterfeit"`
	Share       float64 `json:"share"`
}

// Metrics computes the metrics over the cases opened (and the decisions taken) in the last
// days days (1 to 3650).
func (r *Service) Metrics(ctx context.Context, days int) (_ Metrics, err error) {
	defer fault.Annotate(&err, "review.Metrics(%d)", days)
	if days < 1 || days > 3650 {
		days = 30
	}
	m := Metrics{Days: days, Since: r.now().Add(-time.Duration(days) * 24 * time.Hour), Sources: map[string]int{}}
	b := &pgx.Batch{}
	// Appeal cases repeat their original's rules; counting them would count one flag twice.
	b.Queue(`SELECT rule, count(*), count(c.decision), count(*) FILTER (WHERE c.decision IN ('counterfeit', 'unauthorised_seller'))
		FROM cases c CROSS JOIN unnest(c.rules) AS rule
		WHERE c.opened_at >= $1 AND c.source <> 'appeal' GROUP BY rule ORDER BY count(*) DESC, rule`, m.Since).Query(func(rows pgx.Rows) error {
		var err error
		m.Rules, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (RuleMetric, error) {
			var rm RuleMetric
			err := row.Scan(&rm.Rule, &rm.Flags, &rm.Decided, &rm.Confirmed)
			rm.Precision = ratio(rm.Confirmed, rm.Decided)
			return rm, err
		})
		return err
	})
	var median *float64
	b.Queue(`SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - opened_at))
		FROM cases WHERE status = 'closed' AND closed_at >= $1`, m.Since).QueryRow(func(row pgx.Row) error {
		return row.Scan(&m.Decided, &median)
	})
	b.Queue(`SELECT analyst_email, count(*), count(*) FILTER (WHERE decision = 'counterfeit'),
		count(*) FILTER (WHERE decision = 'unauthorised_seller'), count(*) FILTER (WHERE decision = 'authentic'),
		count(*) FILTER (WHERE decision = 'more_info')
		FROM decisions WHERE decided_at >= $1 GROUP BY analyst_email ORDER BY count(*) DESC, analyst_email`, m.Since).Query(func(rows pgx.Rows) error {
		var err error
		m.Analysts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AnalystMetric])
		return err
	})
	b.Queue(`SELECT CASE WHEN property = '' THEN '(none)' ELSE property END, count(*), count(*) FILTER (WHERE decision = 'counterfeit')
		FROM cases WHERE status = 'closed' AND closed_at >= $1
		GROUP BY 1 ORDER BY count(*) FILTER (WHERE decision = 'counterfeit') DESC, 1`, m.Since).Query(func(rows pgx.Rows) error {
		var err error
		m.Properties, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (PropertyMetric, error) {
			var p PropertyMetric
			err := row.Scan(&p.Property, &p.Decided, &p.Counterfeit)
			p.Share = ratio(p.Counterfeit, p.Decided)
			return p, err
		})
		return err
	})
	b.Queue(`SELECT source, count(*) FROM cases WHERE opened_at >= $1 GROUP BY source`, m.Since).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var s string
			var n int
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			m.Sources[s] = n
		}
		return rows.Err()
	})
	if err := r.db.SendBatch(ctx, b).Close(); err != nil {
		return m, err
	}
	if median != nil {
		m.MedianWait = time.Duration(*median * float64(time.Second))
	}
	m.Backlog, err = r.Backlog(ctx)
	return m, err
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// WriteCSV writes the metrics as one table, a row per figure: section, name, then the
// figure's columns (value, decided, confirmed, share). Shares are fractions with 4 decimals,
// empty when there is nothing to divide by; durations are in seconds.
func (m Metrics) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	share := func(f float64) string {
		if math.IsNaN(f) {
			return ""
		}
		return strconv.FormatFloat(f, 'f', 4, 64)
	}
	n := strconv.Itoa
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) }
	rows := [][]string{{"section", "name", "value", "decided", "confirmed", "share"},
		{"window", "since", m.Since.UTC().Format(time.RFC3339), "", "", ""},
		{"window", "days", n(m.Days), "", "", ""},
		{"decisions", "median_seconds_flag_to_decision", secs(m.MedianWait), n(m.Decided), "", ""},
		{"backlog", "open", n(m.Backlog.Open), "", "", ""},
		{"backlog", "waiting_for_seller", n(m.Backlog.Waiting), "", "", ""},
		{"backlog", "unclaimed", n(m.Backlog.Unclaimed), "", "", ""},
		{"backlog", "oldest_seconds", secs(m.Backlog.Oldest), "", "", ""},
		{"backlog", "median_age_seconds", secs(m.Backlog.Median), "", "", ""},
	}
	for _, r := range m.Rules {
		rows = append(rows, []string{"rule", r.Rule, n(r.Flags), n(r.Decided), n(r.Confirmed), share(r.Precision)})
	}
	for _, a := range m.Analysts {
		rows = append(rows, []string{"analyst", a.Analyst, n(a.Total), "", "", ""})
		for _, k := range []struct {
			name string
			v    int
		}{{"counterfeit", a.Counterfeit}, {"unauthorised_seller", a.Unauthorised}, {"authentic", a.Authentic}, {"more_info", a.MoreInfo}} {
			rows = append(rows, []string{"analyst_decision", a.Analyst + ":" + k.name, n(k.v), "", "", ""})
		}
	}
	for _, p := range m.Properties {
		rows = append(rows, []string{"property", p.Property, n(p.Counterfeit), n(p.Decided), "", share(p.Share)})
	}
	for _, s := range []string{string(SourceScreening), string(SourceReport), string(SourceAppeal)} {
		rows = append(rows, []string{"opened_by", s, n(m.Sources[s]), "", "", ""})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("metrics csv: %w", err)
	}
	return nil
}

// BarChart is a horizontal bar chart drawn on the server as SVG: each bar is a total with a
// highlighted part (flags, and those confirmed).
type BarChart struct {
	Title, Caption   string
	Width, Height    int
	LabelW, LabelX   int
	Bars             []Bar
	TotalLabel, Part string
}

// Bar is one row of a BarChart, with its geometry computed.
type Bar struct {
	Label        string
	Total, Part  int
	Y, W, PartW  int
	TextX, TextY int
	Note         string
}

// RuleChart draws flags per rule, with the confirmed part highlighted.
func (m Metrics) RuleChart() BarChart {
	c := BarChart{Title: "Flags per rule", Caption: "Cases each rule flagged; the dark part was decided counterfeit or unauthorised.",
		Width: 760, LabelW: 250, LabelX: 242, TotalLabel: "flags", Part: "confirmed"}
	maxV := 1
	for _, r := range m.Rules {
		maxV = max(maxV, r.Flags)
	}
	const rowH, barH = 28, 18
	span := c.Width - c.LabelW - 110 // room for "123 · 100%"
	for i, r := range m.Rules {
		b := Bar{Label: r.Rule, Total: r.Flags, Part: r.Confirmed, Y: 8 + i*rowH}
		b.W = max(1, r.Flags*span/maxV)
		b.PartW = r.Confirmed * span / maxV
		b.TextX, b.TextY = c.LabelW+b.W+6, b.Y+barH-4
		if !math.IsNaN(r.Precision) {
			b.Note = fmt.Sprintf("%d · %.0f%%", r.Flags, 100*r.Precision)
		} else {
			b.Note = strconv.Itoa(r.Flags)
		}
		c.Bars = append(c.Bars, b)
	}
	c.Height = 16 + len(c.Bars)*rowH
	return c
}
