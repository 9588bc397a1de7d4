-- cabferry catalog, schema version 5: every trust anchor has a purpose. `payloads`: it vouches for
-- Authenticode-signed update payloads (import, verify, live trust: plan, stage, export, catalog
-- check). `signatures`: it vouches for cabferry's own signed documents (a transfer bundle's
-- manifest, a medium's manifest, and the check that a --sign-cert chains to the catalog). Before
-- this version an anchor served both, so the root a high side trusted for bundle signatures also
-- let anything Authenticode-signed under it pass as an update.
--
-- Existing anchors keep every verdict they gave: each serves both purposes, except the Microsoft
-- roots shipped in catalog/trust-anchors/microsoft-roots.pem (`trust add --microsoft-roots`), which
-- sign no cabferry document and get `payloads` only. `trust list` and `catalog check` name every
-- anchor left with both purposes, with how to narrow it (`trust remove FP --for …`).
--
-- The fingerprints are written here, not read from microsoft-roots.pem: a migration is a fixed step
-- applied once, and SQL cannot read certificates. They are the SHA-256 fingerprints of the eight
-- roots that file held when this migration was written (test/catalog/migration-purposes.test.ts
-- checks that they are exactly that file's). No table refers to trust_anchors, so it is rebuilt
-- with foreign keys left on (SQLite cannot add a table CHECK to a table in place).

CREATE TABLE trust_anchors_new (
  fingerprint    TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
  subject        TEXT NOT NULL,
  issuer         TEXT NOT NULL,
  not_before     TEXT NOT NULL,
  not_after      TEXT NOT NULL,
  der            BLOB NOT NULL,
  source         TEXT NOT NULL,
  added_at       TEXT NOT NULL,
  for_payloads   INTEGER NOT NULL CHECK (for_payloads IN (0, 1)),
  for_signatures INTEGER NOT NULL CHECK (for_signatures IN (0, 1)),
  -- an anchor with no purpose left is no anchor: `trust remove` deletes the row instead
  CHECK (for_payloads = 1 OR for_signatures = 1)
);

INSERT INTO trust_anchors_new (fingerprint, subject, issuer, not_before, not_after, der, source, added_at, for_payloads, for_signatures)
SELECT fingerprint, subject, issuer, not_before, not_after, der, source, added_at, 1,
       CASE WHEN fingerprint IN (
         'f38406e540d7a9d90cb4a9479299640ffb6df9e224ecc7a01c0d9558d8dad77d', -- Microsoft Root Authority (1997)
         '885de64c340e3ea70658f01e1145f957fcda27aabeea1ab9faa9fdb0102d4077', -- Microsoft Root Certificate Authority (2001)
         'df545bf919a2439c36983b54cdfc903dfa4f37d3996d8d84b4c31eec6f3c163e', -- Microsoft Root Certificate Authority 2010
         '847df6a78497943f27fc72eb93f9a637320a02b561d0a91b09e87a7807ed7c61', -- Microsoft Root Certificate Authority 2011
         '65af95f4be86847344634282f941b2e605063ef0c8542f014ca088d182109e4f', -- Microsoft Time Stamp Root Certificate Authority 2014
         'caca93b9d23d2b6fa76e8b8471931e0df3ec6f63af3cdbb936c41954a1872326', -- Microsoft ECC Product Root Certificate Authority 2018
         '3fd4be8baad2f26e1bde06c7584bb720dd1a972d111f5a4999bc44b08fb4960d', -- Microsoft ECC TS Root Certificate Authority 2018
         '5367f20c7ade0e2bca790915056d086b720c33c1fa2a2661acf787e3292e1270'  -- Microsoft Identity Verification Root Certificate Authority 2020
       ) THEN 0 ELSE 1 END
FROM trust_anchors;

DROP TABLE trust_anchors;
ALTER TABLE trust_anchors_new RENAME TO trust_anchors;
