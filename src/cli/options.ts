import type { TrustOptions } from '../authenticode/signature';
import { loadTrustAnchors } from '../authenticode/trust';
import { catalogSignatureTrust, catalogSignaturesOnlyAnchors, resolveTrust } from '../catalog/trust';
import type { IntegrityOptions } from '../media/media-integrity';
import { isCabferryError, usageError } from '../errors';

/** Option parsing that several commands share: one meaning, one message, one error code. */

/** `--catalog DIR`, described the same way by every command that takes it. */
export const CATALOG_OPTION = ['--catalog <dir>', 'catalog folder (default: $CABFERRY_CATALOG, else the per-user data folder)'] as const;

/** commander accumulator for repeatable options (`--trust A --trust B`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--at DATE` (ISO 8601); undefined when absent. */
export function parseAtOption(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw usageError('BAD_DATE', `--at ${JSON.stringify(value)} is not a date (use ISO 8601, e.g. 2019-08-15 or 2019-08-15T12:00:00Z)`);
  return new Date(t);
}

/**
 * The anchors payloads are verified against (verify, inspect): `--trust FILE|DIR…` when given;
 * otherwise the catalog's anchors trusted for payloads, opened read-only so that verifying never
 * creates a catalog, with its anchors for signatures only beside them (never accepted; named when
 * a signer chains to one). Trust is never implicit: with neither, a usage error.
 */
export function trustFromOptions(opts: { trust?: string[]; catalog?: string }): Pick<TrustOptions, 'trust' | 'signaturesOnly'> {
  if (opts.trust && opts.trust.length > 0) return { trust: loadTrustAnchors(opts.trust) };
  // required here, not imported: a command given --trust never pays for loading SQLite
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openCatalog } = require('../catalog/catalog') as typeof import('../catalog/catalog');
  let catalog;
  try {
    catalog = openCatalog({ dir: opts.catalog, access: 'read' });
  } catch (e) {
    if (isCabferryError(e) && e.code === 'CATALOG_NOT_FOUND') {
      throw usageError('NO_TRUST_ANCHORS', 'no trust anchors: pass --trust FILE|DIR (e.g. catalog/trust-anchors/microsoft-roots.pem), or add anchors to a catalog with `cabferry trust add`');
    }
    throw e;
  }
  try {
    return { trust: resolveTrust(catalog, undefined), signaturesOnly: catalogSignaturesOnlyAnchors(catalog) };
  } finally {
    catalog.close();
  }
}

/**
 * The anchors a medium's signature is checked against: `--trust FILE|DIR…` when given (for this
 * command they vouch for signatures), else the catalog's anchors trusted for signatures, with its
 * anchors trusted for payloads only beside them (never accepted; named when the signer chains to
 * one). trust null when neither supplies any anchor (no catalog, or one without anchors): not an
 * error here, verify-media and report then say "integrity not proven".
 */
export function mediaTrustFromOptions(opts: { trust?: string[]; catalog?: string }): Pick<IntegrityOptions, 'trust' | 'payloadsOnly'> {
  if (opts.trust && opts.trust.length > 0) return { trust: loadTrustAnchors(opts.trust) };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openCatalog } = require('../catalog/catalog') as typeof import('../catalog/catalog');
  let catalog;
  try {
    catalog = openCatalog({ dir: opts.catalog, access: 'read' });
  } catch (e) {
    if (isCabferryError(e) && e.code === 'CATALOG_NOT_FOUND') return { trust: null };
    throw e;
  }
  try {
    const { anchors, payloadsOnly } = catalogSignatureTrust(catalog);
    return { trust: anchors.length > 0 ? anchors : null, payloadsOnly };
  } finally {
    catalog.close();
  }
}
