import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { resolveTrust } from '../catalog/trust';
import { ExitCode } from '../errors';
import { importPayloads, type ImportResult, type ImportSummary, type ProgressEvent } from '../importer/import';
import { parseAtOption } from './options';
import { action, isInteractive, printJson } from './run';

interface ImportCliOptions {
  catalog?: string;
  trust: string[];
  at?: string;
  json?: boolean;
  allowSha1Only?: boolean;
  quarantine?: boolean;
}

/** `cabferry import PATH…`: files, folders and .zip bundles into the catalog. */
export function register(program: Command): void {
  program
    .command('import')
    .description('verify payloads (files, folders, .zip bundles) and add the valid ones to the catalog')
    .argument('<path...>', '.msu/.cab files, folders (recursive) or .zip bundles')
    .option('--catalog <dir>', 'catalog folder (default: $CABFERRY_CATALOG, else the per-user data folder)')
    .option('--trust <file|dir>', "trust anchors (repeatable; default: the catalog's trust set)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--at <date>', 'verify signatures without a timestamp as of this date (default: now)')
    .option('--allow-sha1-only', 'also import payloads whose only valid signatures use SHA-1 (recorded as such)')
    .option('--quarantine', 'keep rejected payloads in the catalog as quarantined (never offered to the planner)')
    .option('--json', 'print one JSON document')
    .action(
      action(async (paths: string[], opts: ImportCliOptions) => {
        const at = parseAtOption(opts.at);
        const catalog = openCatalog({ dir: opts.catalog });
        try {
          const trust = resolveTrust(catalog, opts.trust);
          const progress = isInteractive() ? new ProgressLine() : null;
          const summary = await importPayloads(catalog, paths, {
            trust,
            at,
            allowSha1Only: opts.allowSha1Only,
            quarantine: opts.quarantine,
            onProgress: (event) => {
              progress?.update(event);
              if (event.type === 'result' && !opts.json) {
                progress?.clear();
                process.stdout.write(`${formatResult(event.result)}\n`);
              }
            },
          });
          progress?.clear();
          if (opts.json) printJson(summary);
          else process.stdout.write(formatSummary(summary));
          return summary.rejected + summary.quarantined > 0 ? ExitCode.negative : ExitCode.ok;
        } finally {
          catalog.close();
        }
      }),
    );
}

function formatResult(r: ImportResult): string {
  const what = r.kb ? `${r.kb} ` : '';
  switch (r.outcome) {
    case 'imported': return `imported    ${what}${r.label}${r.sha1OnlyAllowed ? ' (SHA-1 only, allowed)' : ''}`;
    case 'duplicate': return `duplicate   ${what}${r.label} (already in the catalog)`;
    case 'restored': return `restored    ${what}${r.label} (the catalog had lost this blob)`;
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

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** One self-overwriting stderr line: files done, bytes, rate, and a bar for the current file. */
class ProgressLine {
  private files = 0;
  private bytes = 0;
  private current = '';
  private currentSize: number | null = null;
  private currentDone = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  update(event: ProgressEvent): void {
    if (event.type === 'start') {
      this.current = event.label;
      this.currentSize = event.size;
      this.currentDone = 0;
    } else if (event.type === 'bytes') {
      this.bytes += event.bytes;
      this.currentDone += event.bytes;
    } else {
      this.files++;
    }
    const now = Date.now();
    if (now - this.lastDraw >= 100) {
      this.lastDraw = now;
      this.draw();
    }
  }

  private draw(): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const width = 20;
    const fraction = this.currentSize ? Math.min(this.currentDone / this.currentSize, 1) : 0;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '-');
    const columns = process.stderr.columns ?? 100;
    const head = `${this.files} file(s)  ${formatBytes(this.bytes)}  ${formatBytes(this.bytes / seconds)}/s  [${bar}] `;
    // keep the end of the name (the file), not its folder, when the terminal is narrow
    const room = Math.max(columns - 1 - head.length, 8);
    const line = head + (this.current.length > room ? '…' + this.current.slice(this.current.length - room + 1) : this.current);
    process.stderr.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
