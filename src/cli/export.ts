import type { Command } from 'commander';
import { ExitCode, usageError } from '../errors';
import { exportBundle, type ExportBundleResult } from '../transfer';
import { createProgress, formatBytes } from './progress';
import { action, printJson, warn } from './run';
import { signPassphrase } from './stage';

interface ExportCliOptions {
  to: string;
  catalog?: string;
  since?: string;
  sinceBundle?: string;
  signKey: string;
  signCert: string;
  signPassEnv?: string;
  allowIncomplete?: boolean;
  json?: boolean;
}

/** `cabferry export --to FILE.zip|DIR`: a signed transfer bundle for a high-side catalog. */
export function register(program: Command): void {
  program
    .command('export')
    .description("write a signed transfer bundle of the catalog's imported payloads for a high-side catalog (`cabferry import BUNDLE` there)")
    .requiredOption('--to <file.zip|dir>', 'the bundle: a new .zip file, or a new or empty folder')
    .requiredOption('--sign-key <file>', 'PEM RSA private key that signs the bundle manifest')
    .requiredOption('--sign-cert <file>', 'PEM certificate of that key, optionally followed by its chain')
    .option('--sign-pass-env <var>', 'the environment variable that holds the passphrase of an encrypted --sign-key (without it, a terminal is asked)')
    .option('--catalog <dir>', 'catalog folder (default: $CABFERRY_CATALOG, else the per-user data folder)')
    .option('--since <date>', 'only payloads first imported into this catalog on or after DATE (ISO 8601)')
    .option('--since-bundle <bundle>', "only payloads that this earlier bundle (and those it followed) did not carry; its signature must verify against the catalog's anchors for signatures or be by --sign-cert")
    .option('--allow-incomplete', 'exit 0 although payloads the catalog does not trust now were left out of the bundle (they are left out either way)')
    .option('--json', 'print one JSON document')
    .action(
      action(async (opts: ExportCliOptions) => {
        const progress = createProgress({ unit: 'file(s)', suppressed: opts.json === true });
        const result = await exportBundle({
          to: opts.to,
          catalog: opts.catalog,
          since: parseSinceOption(opts.since),
          sinceBundle: opts.sinceBundle,
          signing: {
            keyFile: opts.signKey,
            certFile: opts.signCert,
            passphrase: await signPassphrase(opts),
            passphraseHint: '--sign-pass-env VAR (an environment variable holding it), or by running export on a terminal',
          },
          onProgress: (event) => {
            if (event.type === 'total') progress.setTotal(event.items);
            else if (event.type === 'start') progress.label(event.label);
            else if (event.type === 'result') progress.advance(1);
          },
        });
        progress.stop();
        for (const w of result.warnings) warn(w);
        if (!result.complete) {
          warn(`INCOMPLETE bundle: ${result.leftOut.length} payload(s) left out, not trusted now: ${result.leftOut.map((p) => `${p.kb ?? p.fileName} (${p.sha256.slice(0, 12)}…)`).join(', ')}`);
        }
        if (opts.json) printJson(result);
        else process.stdout.write(exportText(result));
        // an incomplete result is a negative one unless the operator said it is acceptable (as stage's --allow-incomplete)
        return result.complete || opts.allowIncomplete === true ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

function parseSinceOption(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw usageError('BAD_DATE', `--since ${JSON.stringify(value)} is not a date (use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  return new Date(t);
}

function exportText(r: ExportBundleResult): string {
  const selection = [r.since === null ? null : `first imported since ${r.since}`, r.follows === null ? null : `after the bundle of ${r.follows.createdAt} (${r.carriedBefore} payload(s) carried before)`].filter((x) => x !== null);
  const lines = [
    `Exported ${r.payloads.length} payload(s), ${formatBytes(r.bytes)}, to ${r.to} (${r.kind})${selection.length > 0 ? ` — ${selection.join(', ')}` : ''}`,
    ...r.payloads.map((p) => `  ${(p.kb ?? '').padEnd(10)} ${p.fileName}`),
    ...(r.leftOut.length === 0
      ? []
      : [
        `LEFT OUT ${r.leftOut.length} payload(s) the catalog does not trust now (not in the bundle; a later --since-bundle export carries them once they are trusted again):`,
        ...r.leftOut.map((p) => `  ${(p.kb ?? '').padEnd(10)} ${p.fileName} (${p.sha256.slice(0, 12)}…): ${p.reason}; ${p.remedy}`),
      ]),
    `Manifest: ${r.files} files, signed by "${r.signer}"; SHA-256 ${r.manifestSha256}`,
    `Next incremental export: cabferry export --since-bundle ${r.to} --to NEW`,
  ];
  return lines.join('\n') + '\n';
}
