import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { addTrustAnchorFiles } from '../catalog/trust';
import { catalogTrust, TrustJudge } from '../catalog/live-trust';
import { ExitCode, usageError } from '../errors';
import { shippedDataPath } from '../shipped-data';
import { CATALOG_OPTION } from './options';
import { action, printJson, warn } from './run';

/** `cabferry trust add|list|remove`: the catalog's trust anchors, used when a command gets no --trust. */
export function register(program: Command): void {
  const trust = program.command('trust').description("manage the catalog's trust anchors (used when no --trust is given)");

  trust
    .command('add')
    .description('trust the certificates in FILE… (PEM bundles, DER/PEM certificates, folders of them)')
    .argument('[file...]', 'certificate files or folders')
    .option('--microsoft-roots', "also trust the Microsoft root certificates shipped with cabferry (catalog/trust-anchors/microsoft-roots.pem)")
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((files: string[], opts: { catalog?: string; json?: boolean; microsoftRoots?: boolean }) => {
        const sources = [...files, ...(opts.microsoftRoots ? [shippedDataPath('trust-anchors', 'microsoft-roots.pem')] : [])];
        if (sources.length === 0) throw usageError('TRUST_NOTHING_TO_ADD', 'name certificate files or folders, or --microsoft-roots');
        const catalog = openCatalog({ dir: opts.catalog, access: 'create' });
        try {
          const added = addTrustAnchorFiles(catalog, sources);
          for (const a of added) if (a.notCa) warn(`${a.anchor.subject} (${a.anchor.fingerprint.slice(0, 16)}…) is not a CA certificate (no basicConstraints cA): as an anchor it trusts only what it signed itself`);
          if (opts.json) {
            printJson({ catalog: catalog.dir, anchors: added.map((a) => ({ ...describe(a.anchor), added: a.added, ca: !a.notCa })) });
          } else {
            for (const a of added) {
              process.stdout.write(`${a.added ? 'added  ' : 'present'} ${a.anchor.fingerprint}  ${a.anchor.subject}\n`);
            }
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  trust
    .command('list')
    .description('list the trust anchors')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { catalog?: string; json?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'read-where-writable' });
        try {
          const anchors = catalog.trustAnchorRecords();
          if (opts.json) {
            printJson({ catalog: catalog.dir, anchors: anchors.map(describe) });
          } else if (anchors.length === 0) {
            process.stdout.write(`no trust anchors in ${catalog.dir} (add some with \`cabferry trust add FILE\`)\n`);
          } else {
            for (const a of anchors) {
              process.stdout.write(`${a.fingerprint}\n  subject ${a.subject}\n  valid   ${a.notBefore.slice(0, 10)} .. ${a.notAfter.slice(0, 10)}\n  from    ${a.source} (${a.addedAt})\n`);
            }
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  trust
    .command('remove')
    .description('stop trusting the anchor with this SHA-256 fingerprint (or a unique prefix of at least 8 hex digits)')
    .argument('<fingerprint>')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((fingerprint: string, opts: { catalog?: string; json?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'write' });
        try {
          const removed = catalog.removeTrustAnchor(fingerprint);
          // trust is live: what the removal takes away is said now, not first at the next stage
          const judge = new TrustJudge(catalog, catalogTrust(catalog));
          const untrusted = catalog.payloads().map((p) => p.sha256).filter((sha256) => {
            const d = judge.distrustOf(sha256);
            return d?.kind === 'anchor-removed' && d.anchors.some((a) => a.fingerprint === removed.fingerprint);
          });
          if (opts.json) printJson({ catalog: catalog.dir, removed: describe(removed), untrustedPayloads: untrusted });
          else process.stdout.write(`removed ${removed.fingerprint}  ${removed.subject}\n`);
          if (untrusted.length > 0 && !opts.json) warn(`${untrusted.length} imported payload(s) chained to it and to no anchor trusted now: stage refuses them, catalog check lists them (trust add the anchor again to undo)`);
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );
}

function describe(a: { fingerprint: string; subject: string; issuer: string; notBefore: string; notAfter: string; source: string; addedAt: string }) {
  return { fingerprint: a.fingerprint, subject: a.subject, issuer: a.issuer, notBefore: a.notBefore, notAfter: a.notAfter, source: a.source, addedAt: a.addedAt };
}
