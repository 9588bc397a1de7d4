-- cabferry catalog, schema version 4: `trust remove` keeps the removed anchor's certificate, not
-- only its fingerprint and subject. A payload without a stored import verdict names no anchor it
-- chained to; with the certificate the live-trust judge can verify it again against the removed
-- anchors and say "untrusted since the anchor was removed" when that is why (a fingerprint alone
-- proves nothing about a chain the signature does not embed). Removals recorded before this
-- version keep der NULL: for those it cannot be known.
ALTER TABLE trust_anchor_removals ADD COLUMN der BLOB;
