import type { Command } from 'commander';
import type { FileVerdict, VerifyCabOptions } from '../authenticode/cab';
import { verifySignedFile } from '../authenticode/verify-file';
import type { SignatureReport } from '../authenticode/signature';
import { loadTrustAnchors } from '../authenticode/trust';
import { ExitCode, formatErrorLine, isCabferryError } from '../errors';
import { collect, parseAtOption, trustFromOptions } from './options';
import { action, printJson } from './run';

interface VerifyCliOptions {
  trust?: string[];
  tsaTrust?: string[];
  catalog?: string;
  at?: string;
  requireSha2?: boolean;
  deep?: boolean;
  sha256?: boolean;
  json?: boolean;
}

/** A file that could not be read as a cabinet at all (exit 3), reported next to the verdicts. */
interface UnreadableFile {
  file: string;
  member?: string;
  verdict: 'unreadable';
  code: string;
  reason: string;
  offset?: number;
  signatures: [];
}


/**
 * `cabferry verify FILE… [--trust FILE|DIR]… [--tsa-trust FILE|DIR]… [--at DATE] [--require-sha2] [--deep] [--json]`.
 * Exit 0 only if every file is valid; 1 if any is invalid, untrusted or unsigned; 3 if any is
 * not a readable cabinet or PE image.
 */
export function register(program: Command): void {
  program
    .command('verify')
    .description('verify the Authenticode signatures of cabinets (.cab/.msu) and PE executables (.exe/.dll/.sys): digest, signer, chain, timestamps, nested signatures, page hashes')
    .argument('<files...>', 'cabinets or PE executables to verify')
    .option('--trust <file|dir>', 'trust anchors: PEM bundle, DER/PEM certificate, or a folder of them (repeatable; default: the catalog\'s anchors for payloads)', collect)
    .option('--tsa-trust <file|dir>', 'trust anchors for timestamp authorities (repeatable; default: the same as --trust)', collect)
    .option('--catalog <dir>', 'catalog whose anchors for payloads are used when no --trust is given')
    .option('--at <date>', 'check chains at this time when a signature has no verified timestamp (default: now)')
    .option('--require-sha2', 'fail a file whose only valid signatures use SHA-1')
    .option('--deep', 'also verify the cabinets inside each file (the payload .cab and WSUSSCAN.cab of an .msu)')
    .option('--sha256', 'also report the SHA-256 of each file')
    .option('--json', 'print one JSON document')
    .action(action((files: string[], opts: VerifyCliOptions) => runVerify(files, opts)));
}

function runVerify(files: string[], opts: VerifyCliOptions): number {
  const options: VerifyCabOptions = {
    ...trustFromOptions(opts),
    tsaTrust: opts.tsaTrust && opts.tsaTrust.length > 0 ? loadTrustAnchors(opts.tsaTrust) : undefined,
    at: parseAtOption(opts.at),
    requireSha2: opts.requireSha2 === true,
    fileSha256: opts.sha256 === true,
  };
  const results: (FileVerdict | UnreadableFile)[] = [];
  let exit: number = ExitCode.ok;
  for (const file of files) {
    let result: FileVerdict | UnreadableFile;
    try {
      result = verifySignedFile(file, options, opts.deep === true);
      if (result.verdict !== 'valid') exit = Math.max(exit, ExitCode.negative);
    } catch (e) {
      if (!isCabferryError(e) || e.kind !== 'input') throw e;
      if (!opts.json) process.stderr.write(`cabferry: ${formatErrorLine(e)}\n`);
      result = { file, ...(e.member !== undefined ? { member: e.member } : {}), verdict: 'unreadable', code: e.code, reason: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}), signatures: [] };
      exit = Math.max(exit, ExitCode.input);
    }
    results.push(result);
    if (!opts.json && result.verdict !== 'unreadable') process.stdout.write(verdictText(result));
  }
  if (opts.json) printJson({ ok: exit === ExitCode.ok, files: results });
  return exit;
}

export function verdictText(v: FileVerdict, indent = ''): string {
  const name = v.member !== undefined ? `${v.file} :: ${v.member}` : v.file;
  let out = `${indent}${name}: ${v.verdict.toUpperCase()} — ${v.reason}${v.code ? ` [${v.code}]` : ''}\n`;
  if (v.sha256 !== null) out += `${indent}  sha256    ${v.sha256}\n`;
  for (const s of v.signatures) out += signatureText(s, `${indent}  `);
  for (const m of v.members ?? []) out += verdictText(m, `${indent}  `);
  return out;
}

function signatureText(s: SignatureReport, indent: string): string {
  const entry = s.certificateEntry !== undefined && s.certificateEntry > 0 ? ` (certificate entry ${s.certificateEntry})` : '';
  const head = `${indent}#${s.index}${s.nested ? ' nested' : ' primary'}${entry} ${s.digestAlgorithm ?? '?'}: ${s.valid ? 'valid' : `FAILED [${s.code}] ${s.reason}`}\n`;
  const lines: string[] = [];
  if (s.signer !== null) lines.push(`signer    ${s.signer}${s.issuer !== null ? `  (issued by ${s.issuer})` : ''}`);
  if (s.description !== null) lines.push(`describes ${s.description}`);
  if (s.timestamp !== null) {
    const t = s.timestamp;
    lines.push(t.valid ? `timestamp ${t.kind} ${t.time} by ${t.authority}` : `timestamp ${t.kind}: FAILED [${t.code}] ${t.reason}`);
  } else if (s.signer !== null) {
    lines.push('timestamp none');
  }
  if (s.chain.length > 0) lines.push(`chain     ${s.chain.map((c) => c.subject + (c.trustAnchor ? ' (anchor)' : '')).join(' → ')}`);
  if (s.pageHashes !== undefined) lines.push(`pages     ${s.pageHashes.pages} ${s.pageHashes.algorithm} page hashes checked`);
  if (s.verifiedAt !== null) lines.push(`checked   at ${s.verifiedAt}`);
  return head + lines.map((l) => `${indent}  ${l}\n`).join('');
}
