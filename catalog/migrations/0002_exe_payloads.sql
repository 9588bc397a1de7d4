-- cabferry catalog, schema version 2: executable payloads (.exe: the Server 2008 SP2 standalone
-- installer, IE9, .NET). payloads.format gains 'exe'. SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt the way the SQLite documentation describes ("Making Other Kinds
-- Of Table Schema Changes"): foreign keys off (the runner does that for a migration carrying the
-- line below, and runs foreign_key_check before it commits), new table, copy, drop, rename,
-- indexes. The child tables keep referring to "payloads" by name, which is the new table.
-- cabferry-migration: foreign-keys-off

CREATE TABLE payloads_new (
  sha256             TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  size               INTEGER NOT NULL CHECK (size >= 0),
  status             TEXT NOT NULL CHECK (status IN ('imported', 'quarantined')),
  -- why a quarantined payload was rejected (NULL for imported ones)
  reject_code        TEXT,
  reject_reason      TEXT,
  file_name          TEXT NOT NULL,
  format             TEXT CHECK (format IN ('msu', 'cab', 'exe')),
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

INSERT INTO payloads_new SELECT * FROM payloads;
DROP TABLE payloads;
ALTER TABLE payloads_new RENAME TO payloads;
CREATE INDEX payloads_kb ON payloads (kb);
CREATE INDEX payloads_status ON payloads (status);
