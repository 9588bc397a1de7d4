import type { Command } from 'commander';
import { isSha256Hex } from '../catalog/blob-store';
import { openCatalog, type Catalog } from '../catalog/catalog';
import { checkCatalog, type CheckReport } from '../catalog/check';
import { exportBlob } from '../catalog/export-blob';
import { catalogTrust, describeDistrust, distrustRemedy, TrustJudge, type Distrust } from '../catalog/live-trust';
import { recheckRecord } from '../importer/recheck';
import { loadKnowledgeBase } from '../knowledge/knowledge-base';
import { catalogFileNames } from '../knowledge/file-names';
import { describeSha2Parts, sha2PartsOfRecord } from '../package/sha2-parts';
import type { Payload } from '../package/types';
import type { CatalogEntry, PayloadFilter } from '../catalog/types';
import { CabferryError, ExitCode } from '../errors';
import { CATALOG_OPTION } from './options';
import { createProgress } from './progress';
import { action, printJson, warn } from './run';

/** `cabferry catalog init|list|show|check|export-blob`. */
export function register(program: Command): void {
  const catalogCmd = program.command('catalog').description('query and check the payload catalog');

  catalogCmd
    .command('init')
    .description('create the catalog (or upgrade its schema); import and trust add also create it, read-only commands never do')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { catalog?: string; json?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'create' });
        try {
          if (opts.json) printJson({ catalog: catalog.dir, schemaVersion: catalog.schemaVersion });
          else process.stdout.write(`catalog ready at ${catalog.dir} (schema version ${catalog.schemaVersion})\n`);
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  catalogCmd
    .command('list')
    .description('list payloads (imported and quarantined)')
    .option(...CATALOG_OPTION)
    .option('--kb <kb>', 'only this KB')
    .option('--product <product>', 'only payloads for this product, e.g. "Windows Server 2008"')
    .option('--arch <arch>', 'x86 | amd64 | ia64 | arm64 | neutral')
    .option('--kind <kind>', 'servicing-stack | sha2-support | monthly-rollup | security-only | …')
    .option('--imported', 'hide quarantined payloads')
    .option('--json', 'print one JSON document')
    .action(
      action((opts: PayloadFilter & { catalog?: string; json?: boolean; imported?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'read-where-writable' });
        try {
          const filter: PayloadFilter = { kb: opts.kb, product: opts.product, arch: opts.arch, kind: opts.kind };
          const entries = catalog.entries(filter, opts.imported ? 'imported' : undefined);
          // the name stage gives each payload (from its verified metadata); a quarantined file keeps the name it arrived under
          const names = catalogFileNames(catalog.payloads(), loadKnowledgeBase());
          const fileOf = (e: CatalogEntry): string => names.get(e.sha256) ?? e.fileName;
          // trust is live: an imported payload no anchor held now vouches for is not listed as ok
          const distrustOf = distrustOfImported(catalog);
          if (opts.json) {
            printJson({ catalog: catalog.dir, payloads: entries.map((e) => summaryJson(e, fileOf(e), distrustOf(e))) });
          } else {
            process.stdout.write(formatTable(entries, fileOf, distrustOf));
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  catalogCmd
    .command('show')
    .description('everything the catalog knows about a payload, by KB or SHA-256 (or the first 10 or more hex digits of it, as `catalog list` prints)')
    .argument('<kb-or-sha256>')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((key: string, opts: { catalog?: string; json?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'read-where-writable' });
        try {
          const entries = entriesNamedBy(catalog, key);
          if (entries.length === 0) throw new CabferryError('negative', 'NOT_IN_CATALOG', `nothing in ${catalog.dir} matches ${key}`);
          const distrustOf = distrustOfImported(catalog);
          const withEvents = entries.map((e) => ({ ...e, distrust: distrustOf(e), events: catalog.events(e.sha256) }));
          if (opts.json) {
            printJson({ catalog: catalog.dir, payloads: withEvents });
          } else {
            process.stdout.write(withEvents.map(formatEntry).join('\n'));
          }
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );

  catalogCmd
    .command('check')
    .description('re-hash every blob; find missing/orphan blobs and rows, leftover temp files; SQLite integrity check')
    .option(...CATALOG_OPTION)
    .option('--repair', 'remove orphan blobs, stray files and temp files of dead imports')
    .option('--deep', 'also read every payload again (signatures, metadata) and compare it with its record')
    .option('--knowledge-base <dir>', 'knowledge base for --deep (default: the one shipped with cabferry)')
    .option('--json', 'print one JSON document')
    .action(
      action((opts: { catalog?: string; json?: boolean; repair?: boolean; deep?: boolean; knowledgeBase?: string }) => {
        // without --repair a check only reads: it works on a catalog it cannot write
        const catalog = openCatalog({ dir: opts.catalog, access: opts.repair ? 'write' : 'read-where-writable' });
        try {
          const bar = createProgress({ unit: 'blob(s)', suppressed: opts.json === true });
          let report: CheckReport;
          try {
            const trust = catalogTrust(catalog);
            const recheckOptions = opts.deep ? { trust: trust.anchors(), knowledgeBase: loadKnowledgeBase(opts.knowledgeBase) } : null;
            report = checkCatalog(catalog, {
              repair: opts.repair,
              trust,
              recheck: recheckOptions === null ? undefined : (sha256) => recheckRecord(catalog, sha256, recheckOptions),
              onBlob: (done, total) => {
                if (done === 1) bar.setTotal(total);
                bar.advance(1);
              },
            });
          } finally {
            bar.stop();
          }
          if (opts.json) printJson(report);
          else {
            process.stdout.write(formatCheck(report));
            for (const w of report.warnings) warn(`${w.detail} [${w.code}]`);
          }
          return report.ok ? ExitCode.ok : ExitCode.negative;
        } finally {
          catalog.close();
        }
      }),
    );

  catalogCmd
    .command('export-blob')
    .description('copy a stored payload out of the catalog (re-hashed while copying)')
    .argument('<sha256>')
    .requiredOption('-o, --output <file>', 'where to write it')
    .option('--force', 'replace FILE if it exists')
    .option(...CATALOG_OPTION)
    .option('--json', 'print one JSON document')
    .action(
      action((sha256: string, opts: { catalog?: string; json?: boolean; output: string; force?: boolean }) => {
        const catalog = openCatalog({ dir: opts.catalog, access: 'read' });
        try {
          const exported = exportBlob(catalog, sha256, opts.output, { force: opts.force });
          if (opts.json) printJson(exported);
          else process.stdout.write(`wrote ${exported.path} (${exported.size} bytes, SHA-256 verified${exported.status === 'quarantined' ? ', QUARANTINED payload' : ''})\n`);
          return ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );
}

/**
 * Whether an imported payload chains now to an anchor of the catalog's trust set (null: it does,
 * or it is quarantined and offered to nothing anyway), by the judge plan and stage use.
 */
function distrustOfImported(catalog: Catalog): (e: CatalogEntry) => Distrust | null {
  const judge = new TrustJudge(catalog, catalogTrust(catalog));
  return (e) => (e.status === 'imported' ? judge.distrustOf(e.sha256) : null);
}

/**
 * The payloads a `catalog show` key names: a whole SHA-256, its first 10 or more hex digits (a KB
 * number has at most 8 digits, so the two cannot be confused), else a KB. A prefix shows every
 * payload it starts, as a KB shows every file of it.
 */
function entriesNamedBy(catalog: Catalog, key: string): CatalogEntry[] {
  const lower = key.toLowerCase();
  if (isSha256Hex(lower)) return [catalog.entry(lower)].filter((e): e is CatalogEntry => e !== null);
  if (/^[0-9a-f]{10,63}$/.test(lower)) return catalog.entries({ sha256Prefix: lower });
  return catalog.entries({ kb: key });
}

/** `file`: its name on media; `fileName`: the name it first arrived under (history, as `sourceNames`) */
function summaryJson(e: CatalogEntry, file: string, distrust: Distrust | null) {
  return {
    sha256: e.sha256,
    status: e.status,
    file,
    fileName: e.fileName,
    sourceNames: e.sourceNames,
    size: e.size,
    kb: e.payload?.kb ?? null,
    product: e.payload?.product ?? null,
    ntVersion: e.payload?.ntVersion ?? null,
    architecture: e.payload?.architecture ?? null,
    kind: e.payload?.kind ?? null,
    signatures: e.payload?.signatures ?? null,
    sha1OnlyAllowed: e.sha1OnlyAllowed,
    metadataVerified: e.payload?.metadataVerified ?? false,
    rejectCode: e.rejectCode,
    rejectReason: e.rejectReason,
    firstImportedAt: e.firstImportedAt,
    /** why an imported payload is not trusted now (live-trust.ts kinds); null when it is, or when quarantined */
    distrust: distrust?.kind ?? null,
  };
}

function formatTable(entries: CatalogEntry[], fileOf: (e: CatalogEntry) => string, distrustOf: (e: CatalogEntry) => Distrust | null): string {
  if (entries.length === 0) return 'no payloads\n';
  const rows = entries.map((e) => [
    e.status !== 'imported' ? 'QUARANTINED' : distrustOf(e) === null ? 'ok' : 'UNTRUSTED',
    e.payload?.kb ?? '-',
    e.payload?.architecture ?? '-',
    e.payload?.kind ?? '-',
    e.payload?.product ?? '-',
    (e.payload?.signatures ?? '-') + (e.sha1OnlyAllowed ? '(allowed)' : ''),
    e.sha256.slice(0, 12),
    fileOf(e),
  ]);
  const header = ['STATUS', 'KB', 'ARCH', 'KIND', 'PRODUCT', 'SIGNED', 'SHA256', 'FILE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const untrusted = rows.filter((r) => r[0] === 'UNTRUSTED').length;
  const note = untrusted > 0 ? `; ${untrusted} UNTRUSTED: imported, but chaining now to no anchor of the catalog's trust set (not offered to plan or stage; \`cabferry catalog show\` says why)` : '';
  return [line(header), ...rows.map(line)].join('\n') + `\n${entries.length} payload(s)${note}\n`;
}

function formatEntry(e: CatalogEntry & { distrust: Distrust | null; events: { at: string; who: string; host: string; source: string; entry: string | null; outcome: string }[] }): string {
  const p = e.payload;
  const lines = [
    // what it is, by its verified metadata; the names it arrived under are history (arrived as)
    p ? `${p.kb} ${p.architecture} .${p.format}` : `metadata unreadable (arrived as ${e.fileName})`,
    `  sha256       ${e.sha256}`,
    `  size         ${e.size}`,
    `  arrived as   ${e.sourceNames.join(', ')}`,
    `  status       ${e.status !== 'imported'
      ? `QUARANTINED: ${e.rejectReason} [${e.rejectCode}]`
      : e.distrust === null
        ? 'imported (offered to the planner)'
        : `imported, NOT TRUSTED NOW (not offered to the planner): ${describeDistrust(e.distrust)}; ${distrustRemedy(e.distrust)}`}`,
  ];
  if (p) {
    lines.push(
      `  kb           ${p.kb}${p.title ? ` — ${p.title}` : ''}`,
      `  product      ${[p.product, ...(p.products ?? []).filter((x) => x !== p.product)].join(', ')} (NT ${p.ntVersion}, ${p.architecture})`,
      `  kind         ${p.kind}${p.releaseType ? ` (${p.releaseType})` : ''}, restart ${p.restart ?? 'not stated'}`,
      `  signatures   ${p.signatures}${e.sha1OnlyAllowed ? ' (SHA-1 only, allowed with --allow-sha1-only)' : ''}`,
      `  SHA-2 only   ${sha2OnlyLine(p)}`,
      `  metadata     ${p.metadataVerified ? 'verified against update.cat' : `NOT verified: ${p.metadataReason ?? 'no reason given'}`}`,
    );
    for (const parent of p.parents) lines.push(`  parent       ${parent.identity.name}${parent.kb ? ` (${parent.kb})` : ''}${parent.identity.version ? ` ${parent.identity.version}` : ''}`);
  }
  for (const s of e.signatures) {
    const ts = s.timestamp ? `, timestamp ${s.timestamp.kind} ${s.timestamp.time ?? ''}` : '';
    lines.push(`  ${s.nested ? 'nested sig ' : 'signature  '}  ${s.valid ? 'valid' : 'INVALID'} ${s.digestAlgorithm ?? '?'} by ${s.signer ?? '?'} (issuer ${s.issuer ?? '?'})${ts}${s.valid ? '' : `: ${s.reason} [${s.code}]`}`);
  }
  for (const m of e.members) lines.push(`  member       ${m.role}: ${m.name}${m.size !== null ? ` (${m.size} bytes)` : ''}`);
  for (const ev of e.events) lines.push(`  event        ${ev.at} ${ev.outcome} by ${ev.who}@${ev.host} from ${ev.source}${ev.entry ? `!${ev.entry}` : ''}`);
  return lines.join('\n') + '\n';
}

/** which signed parts a host needs SHA-2 code signing support for, as the record says */
function sha2OnlyLine(p: Payload): string {
  const parts = sha2PartsOfRecord(p);
  if (parts === null) return 'not recorded for its catalogs and inner cabinets (imported by an older cabferry; `catalog check --deep --repair` records it): plan takes it to need SHA-2 support';
  return parts.length === 0 ? 'none: every signed part has a valid SHA-1 signature too' : describeSha2Parts(parts);
}

function formatCheck(r: CheckReport): string {
  const lines = [`catalog ${r.catalog}: ${r.payloadsChecked} payload(s) checked, ${r.bytesHashed} bytes re-hashed`];
  for (const p of r.problems) lines.push(`${p.repaired ? 'repaired' : 'PROBLEM '} ${p.kind}: ${p.sha256 ?? p.path ?? ''} — ${p.detail}${p.code ? ` [${p.code}]` : ''}`);
  for (const t of r.tempsInUse) lines.push(`note     ${t} belongs to an import still running`);
  lines.push(r.ok ? (r.problems.length ? 'consistent after repair' : 'consistent') : 'NOT consistent' + (r.problems.some((p) => !p.repaired && (p.kind === 'orphan-blob' || p.kind === 'leftover-temp' || p.kind === 'stray-file')) ? ' (run with --repair to remove orphans and leftovers)' : '')
    + (r.problems.some((p) => p.kind === 'record-incomplete' && !p.repaired) ? ' (records made by an older cabferry: run with --deep --repair to record what they lack from their verified blobs)' : '')
    + (r.problems.some((p) => p.kind === 'untrusted-payload') ? ' (untrusted payloads: plan leaves them out and stage refuses them until they chain to an anchor trusted for payloads)' : ''));
  // each distinct remedy once: the same anchor explains many payloads, and a remedy is per anchor and kind
  const remedies = new Set(r.problems.flatMap((p) => (p.kind === 'untrusted-payload' && p.remedy !== undefined ? [p.remedy] : [])));
  for (const remedy of remedies) lines.push(`  what to do: ${remedy}`);
  return lines.join('\n') + '\n';
}
