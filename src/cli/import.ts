import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { catalogSignatureTrust, catalogSignaturesOnlyAnchors, resolveTrust } from '../catalog/trust';
import { ExitCode } from '../errors';
import type { ImportResult, ImportSummary } from '../importer/import';
import { loadKnowledgeBase } from '../knowledge/knowledge-base';
import { CATALOG_OPTION, collect, parseAtOption } from './options';
import { importSources, type BundleImportSummary } from '../transfer';
import { printable } from './printable';
import { createProgress, formatBytes } from './progress';
import { action, printJson } from './run';

interface ImportCliOptions {
  catalog?: string;
  trust?: string[];
  at?: string;
  json?: boolean;
  allowSha1Only?: boolean;
  quarantine?: boolean;
  quiet?: boolean;
  knowledgeBase?: string;
}

/** `cabferry import PATH…`: files, folders and .zip bundles into the catalog; or one transfer bundle. */
export function register(program: Command): void {
  program
    .command('import')
    .description('verify payloads (files, folders, .zip bundles, or one signed transfer bundle from `cabferry export`) and add the valid ones to the catalog')
    .argument('<path...>', '.msu/.cab files, folders (recursive), .zip bundles, or one transfer bundle')
    .option(...CATALOG_OPTION)
    .option(
      '--trust <file|dir>',
      "anchors for the payloads' Authenticode signatures (repeatable; default: the catalog's anchors for payloads). A transfer bundle's own signature is checked against the catalog's anchors for signatures only, never against these: `cabferry trust add --for signatures FILE` for its signer's root",
      collect,
    )
    .option('--at <date>', 'verify signatures without a timestamp as of this date (default: now)')
    .option('--allow-sha1-only', 'also import payloads whose only valid signatures use SHA-1 (recorded as such)')
    .option('--quarantine', 'keep rejected payloads in the catalog as quarantined (never offered to the planner)')
    .option('-q, --quiet', 'no line per file and no progress bar: only the summary, with the rejected files counted by reason code')
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .option('--json', 'print one JSON document')
    .action(
      action(async (paths: string[], opts: ImportCliOptions) => {
        const at = parseAtOption(opts.at);
        const knowledgeBase = loadKnowledgeBase(opts.knowledgeBase);
        const catalog = openCatalog({ dir: opts.catalog, access: 'create' });
        try {
          const trust = resolveTrust(catalog, opts.trust);
          const progress = createProgress({ unit: 'file(s)', suppressed: opts.json === true || opts.quiet === true });
          const summary = await importSources(catalog, paths, {
            trust,
            // never accepted, named when a payload's signer chains to one (with or without --trust: the catalog holds it either way)
            signaturesOnly: catalogSignaturesOnlyAnchors(catalog),
            // a one-off --trust never vouches for a bundle: it names payload anchors only
            signatureTrust: catalogSignatureTrust(catalog),
            at,
            knowledgeBase,
            allowSha1Only: opts.allowSha1Only,
            quarantine: opts.quarantine,
            onProgress: (event) => {
              if (event.type === 'total') progress.setTotal(event.items);
              else if (event.type === 'start') progress.label(event.label);
              else if (event.type === 'result') {
                if (!opts.json && !opts.quiet) {
                  progress.clear();
                  process.stdout.write(`${formatResult(event.result)}\n`);
                }
                progress.resume();
                progress.advance(1);
              }
            },
          });
          progress.stop();
          if (opts.json) printJson(summary);
          else process.stdout.write((summary.kind === 'bundle' ? formatBundle(summary) : '') + formatSummary(summary) + (opts.quiet ? formatRejectCodes(summary) : ''));
          const refused = summary.kind === 'bundle' && summary.refused;
          return refused || summary.rejected + summary.quarantined > 0 ? ExitCode.negative : ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );
}

/** One line per file; its label and reason may hold any name a zip or a bundle gave (printable). */
function formatResult(r: ImportResult): string {
  return printable(resultLine(r));
}

function resultLine(r: ImportResult): string {
  const what = r.kb ? `${r.kb} ` : '';
  switch (r.outcome) {
    case 'imported': return `imported    ${what}${r.label}${r.sha1OnlyAllowed ? ' (SHA-1 only, allowed)' : ''}`;
    case 'duplicate': return `duplicate   ${what}${r.label} (already in the catalog)`;
    case 'restored': return `restored    ${what}${r.label}: ${r.reason ?? 'the stored blob was missing or altered'}`;
    case 'quarantined': return `quarantined ${r.label}: ${r.reason} [${r.code}]`;
    case 'rejected': return `rejected    ${r.label}: ${r.reason} [${r.code}]`;
    case 'skipped': return `skipped     ${r.label}: ${r.reason}`;
  }
}

function formatSummary(s: ImportSummary): string {
  const parts = [`${s.imported} imported`, `${s.duplicates} duplicate(s)`];
  if (s.restored) parts.push(`${s.restored} restored`);
  if (s.quarantined) parts.push(`${s.quarantined} quarantined`);
  parts.push(`${s.rejected} rejected`);
  if (s.skipped) parts.push(`${s.skipped} skipped (not payloads)`);
  return `${parts.join(', ')} — ${formatBytes(s.bytes)} read; catalog ${s.catalog}\n`;
}

/** --quiet: the rejected and quarantined files counted per reason code, most frequent first. */
function formatRejectCodes(s: ImportSummary): string {
  const counts = new Map<string, number>();
  for (const r of s.results) {
    if (r.outcome !== 'rejected' && r.outcome !== 'quarantined') continue;
    const key = `${r.outcome} ${r.code ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return '';
  const parts = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
  return `  ${parts.join(', ')} (run without --quiet, or with --json, to see each file)\n`;
}

const EARLIER_MISSING_SHOWN = 10;

/** The transfer bundle's check, and where the low side's records differ from this side's verification. */
function formatBundle(s: BundleImportSummary): string {
  const b = s.bundle;
  const lines: string[] = [];
  if (b.signature.status === 'valid') lines.push(`bundle ${b.path}: signed by "${b.signature.signer}" (chain: ${b.signature.chain.join(' → ')})`);
  if (b.manifest !== null) {
    lines.push(`  exported ${b.manifest.createdAt} from ${b.manifest.sourceCatalog} by cabferry ${b.manifest.cabferryVersion}: ${b.manifest.payloads} payload(s)${b.manifest.follows === null ? '' : `, following the bundle of ${b.manifest.follows.createdAt}`}`);
  }
  if (s.refusal !== null) {
    // the code first: a refused signature's reason ends with the signature's own code
    lines.push(`REFUSED [${s.refusal.code}] ${b.path}: ${s.refusal.reason}`);
    for (const m of b.missing) lines.push(`  missing:    ${m}`);
    for (const a of b.altered) lines.push(`  altered:    ${a.path} (${a.reason})`);
    for (const u of b.unexpected) lines.push(`  unexpected: ${u}`);
    for (const p of b.problems) lines.push(`  not allowed: ${p}`);
    // a whole chain may be missing (thousands): the first few say what, --json says all
    for (const sha256 of b.earlierMissing.slice(0, EARLIER_MISSING_SHOWN)) lines.push(`  never came here: ${sha256}`);
    if (b.earlierMissing.length > EARLIER_MISSING_SHOWN) lines.push(`  … and ${b.earlierMissing.length - EARLIER_MISSING_SHOWN} more (earlierMissing in --json)`);
  } else {
    lines.push('  every file matches the signed manifest; every payload was verified again here');
  }
  for (const m of s.mismatches) lines.push(`  record differs: ${m.label}: the low side's ${m.fields.join(', ')} differ from this side's verification (this side's is kept)`);
  // names in a refused bundle are anyone's: each stays on its own line
  return lines.map(printable).join('\n') + '\n';
}
