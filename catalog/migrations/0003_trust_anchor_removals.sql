-- cabferry catalog, schema version 3: trust is live. `trust remove` records the anchor it removed,
-- so that `catalog check` and `stage` can tell a payload that chained to it at import (and chains
-- to no anchor trusted now: "untrusted since the anchor was removed") from one imported with a
-- one-off --trust the catalog never held. Adding the anchor back deletes its row.
CREATE TABLE trust_anchor_removals (
  fingerprint  TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
  subject      TEXT NOT NULL,
  removed_at   TEXT NOT NULL
);
