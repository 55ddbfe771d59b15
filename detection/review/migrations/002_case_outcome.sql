-- Each closed case keeps its closing decision (the decision rows stay as they are), so the
-- lead's metrics read one row per case instead of sorting every decision; and indexes for the
-- metrics' time windows and the backlog.
ALTER TABLE cases
    ADD COLUMN decision text CHECK (decision IN ('counterfeit', 'unauthorised_seller', 'authentic')),
    ADD COLUMN decided_at timestamptz;

UPDATE cases c SET decision = d.decision, decided_at = d.decided_at
FROM (SELECT DISTINCT ON (case_id) case_id, decision, decided_at FROM decisions WHERE decision <> 'more_info'
      ORDER BY case_id, decided_at DESC, id DESC) d
WHERE d.case_id = c.id AND c.status = 'closed';

ALTER TABLE cases ADD CONSTRAINT cases_closed_has_decision
    CHECK ((status = 'closed') = (decision IS NOT NULL AND decided_at IS NOT NULL));

CREATE INDEX cases_closed_idx ON cases (closed_at) WHERE status = 'closed';
CREATE INDEX cases_opened_idx ON cases (opened_at);
CREATE INDEX cases_backlog_idx ON cases (opened_at) WHERE status <> 'closed';
CREATE INDEX decisions_decided_idx ON decisions (decided_at);
