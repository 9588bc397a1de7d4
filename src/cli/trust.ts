import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { addTrustAnchorFiles, BOTH_PURPOSES, bothPurposesWarning, servesBoth, parsePurposeOption, TRUST_PURPOSES, type AddedAnchor } from '../catalog/trust';
import { catalogTrust, TrustJudge } from '../catalog/live-trust';
import type { TrustAnchorRecord } from '../catalog/types';
import { ExitCode, usageError } from '../errors';
import { shippedDataPath } from '../shipped-data';
import { CATALOG_OPTION } from './options';
import { action, printJson, warn } from './run';

/** `cabferry trust add|list|remove`: the catalog's trust anchors and what each is trusted for, used when a command gets no --trust. */
export function register(program: Command): void {
  const trust = program.command('trust').description("manage the catalog's trust anchors and their purposes (used when no --trust is given)");

  trust
    .command('add')
    .description(
      'trust the certificates in FILE… (PEM bundles, DER/PEM certificates, folders of them) for a purpose: payloads (the Authenticode signatures of .msu/.cab/.exe updates: import, verify, plan, stage, export) ' +
        "or signatures (cabferry's own: transfer bundles, signed media, the --sign-cert check of stage and export). A certificate already trusted gains the purpose",
    )
    .argument('[file...]', 'certificate files or folders')
    .option('--for <purpose>', 'payloads, signatures or both, for FILE… (default: payloads)')
    .option('--microsoft-roots', 'also trust the Microsoft root certificates shipped with cabferry (catalog/trust-anchors/microsoft-roots.pem), always for payloads only')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((files: string[], opts: { catalog?: string; json?: boolean; microsoftRoots?: boolean; for?: string }) => {
        const purposes = parsePurposeOption(opts.for ?? 'payloads');
        if (files.length === 0 && !opts.microsoftRoots) throw usageError('TRUST_NOTHING_TO_ADD', 'name certificate files or folders, or --microsoft-roots');
        if (files.length === 0 && opts.for !== undefined && opts.for !== 'payloads') {
          throw usageError('TRUST_MICROSOFT_ROOTS_PAYLOADS_ONLY', `the Microsoft roots sign updates, not cabferry's bundles or media: --microsoft-roots is for payloads only (--for ${opts.for} applies to FILE…)`);
        }
        const catalog = openCatalog({ dir: opts.catalog, access: 'create' });
        try {
          const added = [
            ...(files.length > 0 ? addTrustAnchorFiles(catalog, files, purposes) : []),
            ...(opts.microsoftRoots ? addTrustAnchorFiles(catalog, [shippedDataPath('trust-anchors', 'microsoft-roots.pem')], ['payloads']) : []),
          ];
          for (const a of added) if (a.notCa) warn(`${a.anchor.subject} (${a.anchor.fingerprint.slice(0, 16)}…) is not a CA certificate (no basicConstraints cA): as an anchor it trusts only what it signed itself`);
          for (const w of bothPurposesWarnings(added.map((a) => a.anchor))) warn(w.message);
          if (opts.json) {
            printJson({ catalog: catalog.dir, anchors: added.map((a) => ({ ...describe(a.anchor), added: a.added, gained: a.gained, ca: !a.notCa })), warnings: bothPurposesWarnings(added.map((a) => a.anchor)) });
          } else {
            for (const a of added) process.stdout.write(`${addedLine(a)}\n`);
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  trust
    .command('list')
    .description('list the trust anchors and what each is trusted for; an anchor trusted for both payloads and signatures is a warning')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { catalog?: string; json?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'read-where-writable' });
        try {
          const anchors = catalog.trustAnchorRecords();
          const warnings = bothPurposesWarnings(anchors);
          if (opts.json) {
            printJson({ catalog: catalog.dir, anchors: anchors.map(describe), warnings });
          } else if (anchors.length === 0) {
            process.stdout.write(`no trust anchors in ${catalog.dir} (add some with \`cabferry trust add FILE\`)\n`);
          } else {
            for (const a of anchors) {
              process.stdout.write(`${a.fingerprint}\n  subject ${a.subject}\n  for     ${a.purposes.join(', ')}\n  valid   ${a.notBefore.slice(0, 10)} .. ${a.notAfter.slice(0, 10)}\n  from    ${a.source} (${a.addedAt})\n`);
            }
            for (const w of warnings) warn(w.message);
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  trust
    .command('remove')
    .description(
      'stop trusting the anchor with this SHA-256 fingerprint (or a unique prefix of at least 8 hex digits), for one purpose with --for, else for all; ' +
        'an anchor left with no purpose is removed. Payloads that chained to an anchor no longer trusted for payloads become "untrusted since the anchor was removed"',
    )
    .argument('<fingerprint>')
    .option('--for <purpose>', 'payloads or signatures: take away only this purpose (default: every purpose)')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((fingerprint: string, opts: { catalog?: string; json?: boolean; for?: string }) => {
        const purposes = opts.for === undefined ? TRUST_PURPOSES : parsePurposeOption(opts.for);
        const catalog = openCatalog({ dir: opts.catalog, access: 'write' });
        try {
          const removed = catalog.removeTrustAnchor(fingerprint, purposes);
          const anchor = removed.anchor;
          // trust is live: what the removal takes away is said now, not first at the next stage
          const untrusted = removed.taken.includes('payloads') ? payloadsUntrustedSince(catalog, anchor.fingerprint) : [];
          if (opts.json) {
            printJson({ catalog: catalog.dir, removed: { ...describe(anchor), taken: removed.taken, left: removed.left }, untrustedPayloads: untrusted });
          } else if (removed.left.length === 0) {
            process.stdout.write(`removed ${anchor.fingerprint}  ${anchor.subject}\n`);
          } else {
            process.stdout.write(`narrowed ${anchor.fingerprint}  ${anchor.subject}: no longer for ${removed.taken.join(', ')}; still for ${removed.left.join(', ')}\n`);
          }
          if (untrusted.length > 0 && !opts.json) warn(`${untrusted.length} imported payload(s) chained to it and to no anchor trusted now: stage refuses them, catalog check lists them (trust add the anchor again to undo)`);
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );
}

/** The imported payloads that chained to this anchor and to no anchor still trusted for payloads. */
function payloadsUntrustedSince(catalog: ReturnType<typeof openCatalog>, fingerprint: string): string[] {
  const judge = new TrustJudge(catalog, catalogTrust(catalog));
  return catalog.payloads().map((p) => p.sha256).filter((sha256) => {
    const d = judge.distrustOf(sha256);
    return d?.kind === 'anchor-removed' && d.anchors.some((a) => a.fingerprint === fingerprint);
  });
}

/** One warning per anchor trusted for both purposes (the same anchor added twice in one command: once). */
function bothPurposesWarnings(anchors: TrustAnchorRecord[]): { code: string; fingerprint: string; message: string }[] {
  const both = new Map(anchors.filter((a) => servesBoth(a)).map((a) => [a.fingerprint, a]));
  return [...both.values()].map((a) => ({ code: BOTH_PURPOSES, fingerprint: a.fingerprint, message: bothPurposesWarning(a) }));
}

/** added (new), widened (it gained a purpose), present (nothing changed), with what it is trusted for now. */
function addedLine(a: AddedAnchor): string {
  const now = `for ${a.anchor.purposes.join(', ')}`;
  if (a.added) return `added   ${a.anchor.fingerprint}  ${a.anchor.subject} (${now})`;
  if (a.gained.length > 0) return `widened ${a.anchor.fingerprint}  ${a.anchor.subject} (was trusted already; now also for ${a.gained.join(', ')}: ${now})`;
  return `present ${a.anchor.fingerprint}  ${a.anchor.subject} (${now})`;
}

function describe(a: TrustAnchorRecord) {
  return { fingerprint: a.fingerprint, subject: a.subject, issuer: a.issuer, notBefore: a.notBefore, notAfter: a.notAfter, source: a.source, addedAt: a.addedAt, purposes: a.purposes };
}


