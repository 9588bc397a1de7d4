import type { Command } from 'commander';
import type { FileVerdict } from '../authenticode';
import { ExitCode, isCabferryError, type CabferryError } from '../errors';
import { loadKnowledgeBase } from '../knowledge/knowledge-base';
import { inspectPayloadReport, type PayloadReport } from '../package/inspect';
import type { ExecutableIdentity } from '../package/executable';
import type { ParentRequirement } from '../package/types';
import { collect, parseAtOption, trustFromOptions } from './options';
import { action, printJson, reportError } from './run';

/**
 * `cabferry inspect FILE… [--json] [--members] [--trust FILE|DIR]… [--at DATE] [--catalog DIR]`:
 * what each payload is (KB, product, architecture, kind, restart, parents) and whether its
 * signature (and an .msu's payload cab's) and catalog-signed metadata hold. Exit 0 all good,
 * 1 a signature or the metadata did not verify, 3 a file is not a readable payload.
 */
export function register(program: Command): void {
  program
    .command('inspect')
    .description('show what update payloads (.msu/.cab/.exe) are, from their verified servicing metadata or signed version resource')
    .argument('<files...>', 'payloads to inspect')
    .option('--json', 'print one JSON document: {"payloads":[…],"errors":[…]}')
    .option('--members', 'also list the members (for an .msu, those of its payload cab too)')
    .option('--trust <file|dir>', "trust anchors (PEM/DER certificates or folders of them; repeatable; default: the catalog's anchors for payloads)", collect)
    .option('--at <date>', 'verify signatures without a timestamp as of this date (ISO 8601)')
    .option('--catalog <dir>', "use this catalog's trust anchors when no --trust is given")
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .action(
      action((files: string[], opts: InspectCliOptions) => {
        const { trust, signaturesOnly } = trustFromOptions(opts);
        const at = parseAtOption(opts.at);
        const knowledgeBase = loadKnowledgeBase(opts.knowledgeBase);
        const reports: PayloadReport[] = [];
        const errors: CabferryError[] = [];
        for (const file of files) {
          try {
            reports.push(inspectPayloadReport(file, { trust, signaturesOnly, at, knowledgeBase }));
          } catch (e) {
            if (!isCabferryError(e) || e.kind === 'internal') throw e;
            if (e.file === undefined) e.file = file;
            errors.push(e);
            reportError(e);
          }
        }
        if (opts.json) printJson(inspectDocument(reports, errors, Boolean(opts.members)));
        else process.stdout.write(reports.map((r) => inspectText(r, Boolean(opts.members))).join('\n'));
        return exitCodeFor(reports, errors);
      }),
    );
}

interface InspectCliOptions {
  json?: boolean;
  members?: boolean;
  trust?: string[];
  at?: string;
  catalog?: string;
  knowledgeBase?: string;
}

export function exitCodeFor(reports: PayloadReport[], errors: CabferryError[]): number {
  if (errors.some((e) => e.kind === 'input' || e.kind === 'usage')) return ExitCode.input;
  if (errors.length > 0) return ExitCode.negative;
  // the deep verdict: the file's own signature and each inner cabinet's (an .msu's payload cab and WSUSSCAN.cab)
  const negative = reports.some((r) => r.deepVerdict?.verdict !== 'valid' || !r.payload.metadataVerified);
  return negative ? ExitCode.negative : ExitCode.ok;
}

export function inspectDocument(reports: PayloadReport[], errors: CabferryError[], withMembers: boolean): unknown {
  return {
    payloads: reports.map((r) => ({
      file: r.file,
      ...r.payload,
      verification: {
        verdict: r.verdict.verdict,
        reason: r.verdict.reason,
        signatures: r.verdict.signatures.map(signatureSummary),
        ...(r.payloadCabVerdict
          ? { payloadCab: { member: r.payloadCabVerdict.member, verdict: r.payloadCabVerdict.verdict, reason: r.payloadCabVerdict.reason, signatures: r.payloadCabVerdict.signatures.map(signatureSummary) } }
          : {}),
        ...(r.deepVerdict?.members ? { deep: { verdict: r.deepVerdict.verdict, code: r.deepVerdict.code, reason: r.deepVerdict.reason, innerCabinets: r.deepVerdict.members.map((m) => ({ member: m.member, verdict: m.verdict, code: m.code, reason: m.reason })) } } : {}),
        metadata: {
          verified: r.metadata.verified,
          reason: r.metadata.reason,
          problems: r.metadata.problems,
          catalogs: r.metadata.catalogs,
          membersVerified: r.metadata.membersVerified,
          containerIndex: r.metadata.containerIndex,
        },
      },
      ...(r.pkgProperties ? { pkgProperties: { encoding: r.pkgProperties.encoding, entries: { ...r.pkgProperties.entries } } } : {}),
      ...(withMembers ? { members: r.members } : {}),
    })),
    errors: errors.map((e) => ({ file: e.file ?? null, code: e.code, message: e.message, ...(e.member ? { member: e.member } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) })),
  };
}

function signatureSummary(s: FileVerdict['signatures'][number]): Record<string, unknown> {
  return {
    digestAlgorithm: s.digestAlgorithm,
    signer: s.signer,
    issuer: s.issuer,
    nested: s.nested,
    timestamp: s.timestamp ? { kind: s.timestamp.kind, time: s.timestamp.time, authority: s.timestamp.authority } : null,
    valid: s.valid,
    reason: s.reason,
  };
}

export function inspectText(r: PayloadReport, withMembers: boolean): string {
  const p = r.payload;
  const rows: [string, string][] = [
    ['KB', p.title ? `${p.kb} — ${p.title}` : p.kb],
    ['product', `${(p.products ?? [p.product]).join(', ')} (NT ${p.ntVersion})`],
    ['architecture', p.architecture],
    ['kind', `${p.kind}${p.kindBasis ? ` (${p.kindBasis})` : ''}`],
    ['release type', p.releaseType ?? '(none)'],
    ['restart', p.restart ?? '(not specified)'],
    ['parents', p.parents.length === 0 ? '(none)' : p.parents.map((x, i) => `${i > 0 && x.group !== undefined && x.group === p.parents[i - 1].group ? 'or ' : ''}${parentText(x)}`).join('\n' + ' '.repeat(16))],
    ...(p.servicingStackVersion ? [['servicing', `installs Microsoft-Windows-ServicingStack ${p.servicingStackVersion}`] as [string, string]] : []),
    ...(p.executable
      ? [['executable', executableText(p.executable)] as [string, string]]
      : [['identity', p.identity ? `${p.identity.name} ${p.identity.version ?? ''} ${p.identity.processorArchitecture ?? ''}`.trim() : '(none)'] as [string, string]]),
    ['file', `${p.format}${p.payloadCab ? ` (payload cab ${p.payloadCab})` : ''}, ${p.size} bytes, sha256 ${p.sha256}`],
    ['signatures', `${p.signatures}: ${signatureLine(r.verdict)}`],
  ];
  if (r.payloadCabVerdict) rows.push(['payload cab', signatureLine(r.payloadCabVerdict)]);
  for (const m of r.deepVerdict?.members ?? []) if (m !== r.payloadCabVerdict) rows.push(['inner cab', `${m.member}: ${signatureLine(m)}`]);
  rows.push([p.executable ? 'identity' : 'metadata', `${p.metadataVerified ? 'verified' : 'NOT VERIFIED'}: ${p.metadataReason ?? ''}`]);
  for (const note of p.notes ?? []) rows.push(['note', note]);
  let text = `${r.file}\n${rows.map(([k, v]) => `  ${k.padEnd(13)} ${v}`).join('\n')}\n`;
  if (withMembers) {
    text += `  members (${r.members.length}):\n`;
    for (const m of r.members) text += `    ${String(m.size).padStart(10)}  ${m.container}: ${m.name}\n`;
  }
  return text;
}

function executableText(e: ExecutableIdentity): string {
  const kind = `${e.format} ${e.machine ?? 'unknown machine'}${e.dll ? ' DLL' : ''}${e.dotnet ? ' .NET' : ''}`;
  const v = e.versionResource;
  if (v === null) return `${kind}, no version resource`;
  const strings = (['ProductName', 'FileDescription', 'OriginalFilename', 'FileVersion'] as const).filter((k) => v.strings[k]).map((k) => `${k} "${v.strings[k]}"`);
  return `${kind}, version ${v.fileVersion ?? '(no fixed part)'}${strings.length > 0 ? `; ${strings.join(', ')}` : ''}`;
}

function parentText(parent: ParentRequirement): string {
  const compare = (['buildCompare', 'serviceCompare', 'revisionCompare', 'disposition', 'integrate'] as const)
    .filter((k) => parent[k] !== undefined)
    .map((k) => `${k}=${parent[k]}`)
    .join(' ');
  return `${parent.identity.name} ${parent.identity.version ?? ''}${parent.kb ? ` (requires ${parent.kb})` : ''}${compare ? ` [${compare}]` : ''}`;
}

function signatureLine(v: FileVerdict): string {
  if (v.signatures.length === 0) return v.reason || v.verdict;
  const each = v.signatures.map((s) => `${s.digestAlgorithm ?? '?'} ${s.valid ? 'valid' : `INVALID (${s.reason})`}${s.signer ? `, ${s.signer}` : ''}${s.timestamp?.time ? `, timestamped ${s.timestamp.time}` : ''}`);
  return `${v.verdict} — ${each.join('; ')}`;
}
