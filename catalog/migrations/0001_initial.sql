-- cabferry catalog, schema version 1.
-- Applied by src/catalog/migrations.ts inside one transaction; PRAGMA user_version records it.
-- Every payload is addressed by the SHA-256 of its bytes; the blob store keeps the bytes at
-- blobs/<first two hex digits>/<remaining 62>.

-- One row per unique file. `status` separates what the planner may use ('imported': signature
-- valid and metadata verified) from what an operator kept for evidence ('quarantined').
CREATE TABLE payloads (
  sha256             TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  size               INTEGER NOT NULL CHECK (size >= 0),
  status             TEXT NOT NULL CHECK (status IN ('imported', 'quarantined')),
  -- why a quarantined payload was rejected (NULL for imported ones)
  reject_code        TEXT,
  reject_reason      TEXT,
  file_name          TEXT NOT NULL,
  format             TEXT CHECK (format IN ('msu', 'cab')),
  kb                 TEXT,
  title              TEXT,
  product            TEXT,
  nt_version         TEXT,
  architecture       TEXT,
  kind               TEXT,
  release_type       TEXT,
  restart            TEXT,
  unpacked_size      INTEGER,
  -- summary of the VALID Authenticode signatures: sha1-only | sha2-only | dual | unsigned | invalid
  signatures         TEXT,
  -- 1 when the only valid signatures are SHA-1 and the operator allowed that (--allow-sha1-only)
  sha1_only_allowed  INTEGER NOT NULL DEFAULT 0 CHECK (sha1_only_allowed IN (0, 1)),
  metadata_verified  INTEGER NOT NULL DEFAULT 0 CHECK (metadata_verified IN (0, 1)),
  metadata_reason    TEXT,
  verdict            TEXT,
  -- the full Payload model (src/package/types.ts) and the signature verdict, as JSON, so a
  -- later version can re-derive columns without re-reading the blob
  payload_json       TEXT,
  verdict_json       TEXT,
  first_imported_at  TEXT NOT NULL,
  CHECK (status = 'quarantined' OR (metadata_verified = 1 AND kb IS NOT NULL AND verdict = 'valid'))
);
CREATE INDEX payloads_kb ON payloads (kb);
CREATE INDEX payloads_status ON payloads (status);

-- Every product a payload applies to (Payload.products, or Payload.product alone).
CREATE TABLE payload_products (
  sha256   TEXT NOT NULL REFERENCES payloads (sha256) ON DELETE CASCADE,
  product  TEXT NOT NULL,
  PRIMARY KEY (sha256, product)
);
CREATE INDEX payload_products_product ON payload_products (product);

-- Each Authenticode signature found on the file (primary = depth 0, nested ones after it).
CREATE TABLE signatures (
  sha256            TEXT NOT NULL REFERENCES payloads (sha256) ON DELETE CASCADE,
  position          INTEGER NOT NULL,
  nested            INTEGER NOT NULL CHECK (nested IN (0, 1)),
  digest_algorithm  TEXT,
  signer            TEXT,
  issuer            TEXT,
  timestamp_kind    TEXT,
  timestamp_time    TEXT,
  timestamp_authority TEXT,
  valid             INTEGER NOT NULL CHECK (valid IN (0, 1)),
  code              TEXT,
  reason            TEXT,
  PRIMARY KEY (sha256, position)
);

-- The package's <parent> requirements: what the planner treats as prerequisites.
CREATE TABLE parents (
  sha256            TEXT NOT NULL REFERENCES payloads (sha256) ON DELETE CASCADE,
  position          INTEGER NOT NULL,
  kb                TEXT,
  identity_name     TEXT NOT NULL,
  identity_version  TEXT,
  architecture      TEXT,
  disposition       TEXT,
  integrate         TEXT,
  build_compare     TEXT,
  service_compare   TEXT,
  revision_compare  TEXT,
  PRIMARY KEY (sha256, position)
);
CREATE INDEX parents_kb ON parents (kb);

-- Members of interest inside a payload (update.mum, update.cat, the inner cab, WSUSSCAN.cab…).
CREATE TABLE members (
  sha256   TEXT NOT NULL REFERENCES payloads (sha256) ON DELETE CASCADE,
  name     TEXT NOT NULL,
  role     TEXT NOT NULL,
  size     INTEGER,
  PRIMARY KEY (sha256, name)
);

-- Audit log: every file offered to `import`, whatever became of it. Not tied to payloads by a
-- foreign key: rejected files have no payload row, and the log must outlive deletions.
CREATE TABLE import_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        TEXT NOT NULL,
  who       TEXT NOT NULL,
  host      TEXT NOT NULL,
  pid       INTEGER NOT NULL,
  source    TEXT NOT NULL,
  entry     TEXT,
  sha256    TEXT,
  size      INTEGER,
  outcome   TEXT NOT NULL CHECK (outcome IN ('imported', 'duplicate', 'rejected', 'quarantined', 'restored')),
  verdict   TEXT,
  code      TEXT,
  reason    TEXT,
  cabferry_version TEXT NOT NULL
);
CREATE INDEX import_events_sha256 ON import_events (sha256);

-- The catalog's configured trust anchors (used when a command gets no --trust).
CREATE TABLE trust_anchors (
  fingerprint  TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
  subject      TEXT NOT NULL,
  issuer       TEXT NOT NULL,
  not_before   TEXT NOT NULL,
  not_after    TEXT NOT NULL,
  der          BLOB NOT NULL,
  source       TEXT NOT NULL,
  added_at     TEXT NOT NULL
);
