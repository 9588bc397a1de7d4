import type { ChainEntry, SignatureReport } from '../../authenticode/signature';
import type { CatalogEntry, SignatureRecord } from '../../catalog/types';
import { assumedInstalledText, goalQualifier, incompleteReasons } from '../../planner/present';
import type { HostInventory, HostPlan, PlanStep } from '../../planner/types';
import { escapeHtml, textOr } from './escape';
import { factsTable, htmlDocument, statusBadge, table } from './page';

/**
 * index.html at the root of a staged medium: the evidence pack an admin prints for the change
 * board and a security team files. Per host the plan as staged (order, KB, kind, file, why,
 * restart), what was skipped and why, the assumptions (the installed updates the plan rests on
 * among them) and what is missing; per payload what the catalog recorded when it was imported
 * (SHA-256, signatures, digest algorithms, timestamps, chains); the manifest's signer and how to
 * check the medium.
 *
 * Only facts handed in are shown: where the catalog kept nothing (a payload staged without a
 * catalog record, a row without the verdict document) the page says so instead of filling in.
 */

export interface EvidencePackInput {
  createdAt: string;
  cabferryVersion: string;
  /** the catalog the payloads came from, as the manifest names it */
  catalog: string | null;
  hosts: { inventory: HostInventory; plan: HostPlan }[];
  /** each payload once, as staged under payloads/ */
  payloads: { file: string; size: number; sha256: string }[];
  /** what the catalog recorded at import for the payload with this SHA-256 */
  evidence: (sha256: string) => PayloadEvidence | null;
  /** the certificate that signs manifest.json; null when the medium is not signed */
  manifestSigner: ManifestSigner | null;
}

/** The catalog's records of one payload: its row and the verdict document kept with it. */
export interface PayloadEvidence {
  entry: CatalogEntry;
  /** the importer's full signature verdict (chains); null when the catalog kept none */
  verdict: { signatures: SignatureReport[] } | null;
}

export interface ManifestSigner {
  subject: string;
  issuer: string;
  /** SHA-256 of the certificate's DER, lowercase hex */
  sha256Fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** the certificates that travel with the signature, leaf first */
  chain: { subject: string; sha256Fingerprint: string }[];
}

export function renderEvidencePack(input: EvidencePackInput): string {
  const evidence = new Map(input.payloads.map((p) => [p.sha256, input.evidence(p.sha256)]));
  const body = [
    coverSection(input),
    ...input.hosts.map((h) => hostSection(h.inventory, h.plan, evidence)),
    payloadsSection(input.payloads, evidence),
    `<p class="foot">Written by cabferry ${escapeHtml(input.cabferryVersion)} at ${escapeHtml(input.createdAt)}. This page is listed in manifest.json with its SHA-256; a changed copy fails verify-media.</p>`,
  ].join('\n');
  return htmlDocument(`cabferry media: ${input.hosts.map((h) => h.plan.host).join(', ')}`, body);
}

// ---- cover: what this medium is, who signed it, how to check it ------------------------------

function coverSection(input: EvidencePackInput): string {
  const incomplete = input.hosts.filter((h) => !h.plan.complete);
  const out: string[] = [];
  out.push('<h1>cabferry update media: evidence pack</h1>');
  out.push(factsTable([
    ['Staged at', escapeHtml(input.createdAt)],
    ['cabferry version', escapeHtml(input.cabferryVersion)],
    ['Catalog', textOr(input.catalog, '<span class="muted">not recorded</span>')],
    ['Hosts', String(input.hosts.length)],
    ['Payloads', `${input.payloads.length} (${formatKb(input.payloads.reduce((n, p) => n + p.size, 0))})`],
  ]));
  if (incomplete.length > 0) {
    out.push(`<div class="warn">INCOMPLETE PLANS (staged with --allow-incomplete): ${incomplete.map((h) => `${escapeHtml(h.plan.host)}: ${escapeHtml(incompleteReasons(h.plan).join('; '))}`).join('; ')}. These hosts will not be fully updated by this medium.</div>`);
  }
  out.push('<h2>Hosts on this medium</h2>');
  out.push(table(
    [{ label: 'Host', width: '18%' }, { label: 'Windows', width: '30%' }, { label: 'Architecture', width: '15%' }, { label: 'Steps', width: '9%', className: 'num' }, { label: 'Plan', width: '28%' }],
    input.hosts.map(({ inventory, plan }) => [
      escapeHtml(plan.host),
      escapeHtml(windowsText(inventory)),
      textOr(inventory.architecture, 'not stated'),
      String(plan.steps.length),
      plan.complete ? `${statusBadge('complete', 'complete')}${escapeHtml(goalQualifier(plan.goal))}` : `${statusBadge('failed', 'INCOMPLETE')} ${escapeHtml(incompleteReasons(plan).join('; '))}`,
    ]),
  ));
  out.push('<h2>Manifest signature</h2>');
  out.push(signerBlock(input.manifestSigner));
  out.push('<h2>Checking this medium</h2>');
  out.push('<p>On the connected side, or wherever cabferry is installed, before the medium goes in and after it comes back:</p>');
  out.push('<pre>cabferry verify-media DRIVE:\\ --trust SIGNER-ROOT-CERTIFICATE</pre>');
  out.push('<p>It re-hashes every file against manifest.json (this page included) and checks manifest.json.p7s against the certificate you name; the medium is trusted only when both pass. Without cabferry, <code>sha256sum -c SHA256SUMS</code> checks the hashes but not the signature.</p>');
  out.push('<p>On each host, as Administrator: <code>hosts\\HOST\\install.cmd</code> from this medium. Results are written to <code>results\\HOST\\</code>; bring the medium back and run <code>cabferry report DRIVE:\\ --html fleet.html</code>.</p>');
  return out.join('\n');
}

function signerBlock(signer: ManifestSigner | null): string {
  if (signer === null) {
    return '<div class="warn">manifest.json is NOT signed: verify-media can show that files match the manifest, but not who wrote it (integrity not proven).</div>';
  }
  return factsTable([
    ['Signer', escapeHtml(signer.subject)],
    ['Issued by', escapeHtml(signer.issuer)],
    ['Certificate SHA-256', `<span class="hash">${escapeHtml(signer.sha256Fingerprint)}</span>`],
    ['Valid', `${escapeHtml(signer.notBefore)} to ${escapeHtml(signer.notAfter)}`],
    ['Certificates carried', signer.chain.map((c) => `${escapeHtml(c.subject)} <span class="hash muted">${escapeHtml(c.sha256Fingerprint)}</span>`).join('<br>')],
    ['Signature file', '<code>manifest.json.p7s</code> (detached PKCS#7, SHA-256)'],
  ]);
}

// ---- one host per printed page -----------------------------------------------------------------

function hostSection(inventory: HostInventory, plan: HostPlan, evidence: Map<string, PayloadEvidence | null>): string {
  const out: string[] = [];
  out.push(`<div class="newpage host" id="host-${escapeHtml(plan.host)}">`);
  out.push(`<h2>Host ${escapeHtml(plan.host)}</h2>`);
  out.push(factsTable([
    ['Windows', `${escapeHtml(windowsText(inventory))}, ${textOr(inventory.architecture, 'architecture not stated')}`],
    ['Inventory', `from ${textOr(inventory.sources.join(', '), 'no stated source')}; not stated: ${textOr(inventory.unknown.join(', '), 'nothing')}`],
    ['Reported installed', inventory.installed.length === 0 ? 'none' : `${inventory.installed.length}: ${escapeHtml(inventory.installed.join(', '))}`],
    ['Run', `<code>hosts\\${escapeHtml(plan.host)}\\install.cmd</code> as Administrator`],
  ]));
  if (!plan.complete) {
    out.push(`<div class="warn">INCOMPLETE PLAN: staged with --allow-incomplete; the host will not be current after it runs.<br>${incompleteReasons(plan).map(escapeHtml).join('<br>')}</div>`);
  }
  out.push(`<h3>Plan: ${plan.steps.length} step(s)</h3>`);
  if (plan.steps.length === 0) out.push('<p>Nothing to install.</p>');
  else {
    out.push(table(
      [{ label: '#', width: '4%', className: 'num' }, { label: 'KB', width: '13%' }, { label: 'Kind', width: '13%' }, { label: 'File', width: '23%' }, { label: 'Size', width: '8%', className: 'num' }, { label: 'Why', width: '27%' }, { label: 'Restart', width: '12%' }],
      plan.steps.map((s) => stepRow(s, s.sha256 === null ? null : evidence.get(s.sha256) ?? null)),
      'plan',
    ));
  }
  out.push('<h3>Missing</h3>');
  out.push(plan.missing.length === 0
    ? `<p>${plan.complete ? 'Nothing: every prerequisite the plan needs is on this medium.' : 'Nothing the catalog lacks; the plan is incomplete for the reasons above.'}</p>`
    : table([{ label: 'KB', width: '14%' }, { label: 'Why it is needed', width: '60%' }, { label: 'File to fetch', width: '26%' }],
      plan.missing.map((m) => [escapeHtml(m.kb), escapeHtml(m.reason), textOr(m.fileHint, '<span class="muted">-</span>')]), 'missing'));
  out.push('<h3>Assumptions</h3>');
  out.push(plan.assumptions.length === 0
    ? '<p>None.</p>'
    : `<ul>${plan.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>`);
  const assumed = plan.assumedInstalled ?? [];
  if (assumed.length > 0) {
    const text = assumedInstalledText(assumed);
    out.push(`<p class="assumed">${escapeHtml(text[0].toUpperCase() + text.slice(1))}</p>`);
  }
  out.push('<h3>Skipped</h3>');
  out.push(plan.skipped.length === 0
    ? '<p>Nothing was skipped.</p>'
    : table([{ label: 'KB', width: '14%' }, { label: 'Why', width: '16%' }, { label: 'Detail', width: '70%' }],
      plan.skipped.map((s) => [escapeHtml(s.kb), escapeHtml(s.reason), textOr(s.detail, '<span class="muted">-</span>')]), 'skipped'));
  out.push('</div>');
  return out.join('\n');
}

function stepRow(step: PlanStep, evidence: PayloadEvidence | null): string[] {
  if (step.action === 'reboot') {
    return [String(step.n), '<span class="muted">-</span>', 'restart', '<span class="muted">(restart)</span>', '', escapeHtml(step.reason), '<b>restart the host now</b>'];
  }
  const restart = evidence?.entry.payload?.restart;
  return [
    String(step.n),
    textOr(step.kb, '<span class="muted">-</span>'),
    escapeHtml(step.kind),
    `<span class="mono">${textOr(step.file, '-')}</span>`,
    evidence ? formatKb(evidence.entry.size) : '<span class="muted">not recorded</span>',
    escapeHtml(step.reason),
    evidence === null ? '<span class="muted">no catalog record</span>' : restart ? `package: ${escapeHtml(restart)}` : '<span class="muted">not stated by the package</span>',
  ];
}

// ---- payload evidence --------------------------------------------------------------------------

function payloadsSection(payloads: EvidencePackInput['payloads'], evidence: Map<string, PayloadEvidence | null>): string {
  const out: string[] = [];
  out.push('<div class="newpage">');
  out.push('<h2>Payloads and their signatures, as verified at import</h2>');
  out.push('<p>What the catalog recorded when each payload was imported and its Authenticode signatures were checked. The SHA-256 below is the one install.cmd checks on the host before installing.</p>');
  out.push(table(
    [{ label: 'File', width: '30%' }, { label: 'KB', width: '13%' }, { label: 'Size', width: '9%', className: 'num' }, { label: 'SHA-256', width: '48%', className: 'hash' }],
    payloads.map((p) => [`<span class="mono">${escapeHtml(p.file)}</span>`, textOr(evidence.get(p.sha256)?.entry.payload?.kb, '<span class="muted">-</span>'), formatKb(p.size), escapeHtml(p.sha256)]),
    'payloads',
  ));
  for (const p of payloads) out.push(payloadBlock(p, evidence.get(p.sha256) ?? null));
  out.push(certificatesTable(evidence.values()));
  out.push('</div>');
  return out.join('\n');
}

function payloadBlock(p: EvidencePackInput['payloads'][number], ev: PayloadEvidence | null): string {
  const out: string[] = [];
  out.push(`<div class="payload" id="payload-${escapeHtml(p.sha256)}">`);
  out.push(`<h3>${escapeHtml(p.file)}</h3>`);
  if (ev === null) {
    out.push(factsTable([['SHA-256', `<span class="hash">${escapeHtml(p.sha256)}</span>`]]));
    out.push('<div class="warn">The catalog has no record of this payload: no signature evidence can be shown for it.</div></div>');
    return out.join('\n');
  }
  const e = ev.entry;
  out.push(factsTable([
    ['Title', textOr(e.payload?.title, '<span class="muted">none recorded</span>')],
    ['KB / kind', `${textOr(e.payload?.kb, '-')} / ${textOr(e.payload?.kind, '-')}`],
    ['SHA-256', `<span class="hash">${escapeHtml(e.sha256)}</span>`],
    ['Size', `${e.size} bytes`],
    ['Catalog status', `${escapeHtml(e.status)}, signature verdict ${textOr(e.verdict, 'not recorded')}${e.sha1OnlyAllowed ? ' <b>(imported with only SHA-1 signatures valid: --allow-sha1-only)</b>' : ''}`],
    ['First imported', escapeHtml(e.firstImportedAt)],
    ['Digest algorithms', textOr(digestAlgorithms(e.signatures), 'none recorded')],
  ]));
  if (e.signatures.length === 0) out.push('<p class="bad">No Authenticode signature was recorded for this payload.</p>');
  else {
    out.push(table(
      [{ label: 'Signature', width: '13%' }, { label: 'Digest', width: '10%' }, { label: 'Signer', width: '20%' }, { label: 'Issuer', width: '20%' }, { label: 'Timestamp', width: '23%' }, { label: 'Result', width: '14%' }],
      e.signatures.map((s) => signatureRow(s)),
      'signatures',
    ));
    out.push(chains(e.signatures, ev.verdict));
  }
  out.push('</div>');
  return out.join('\n');
}

function signatureRow(s: SignatureRecord): string[] {
  const ts = s.timestamp === null
    ? '<span class="muted">none</span>'
    : `${escapeHtml(s.timestamp.kind)}: ${textOr(s.timestamp.time, 'time unreadable')}<br><span class="muted">${textOr(s.timestamp.authority, 'authority not recorded')}</span>`;
  return [
    `${s.position} ${s.nested ? 'nested' : 'primary'}`,
    textOr(s.digestAlgorithm, '-'),
    textOr(s.signer, '<span class="muted">unknown</span>'),
    textOr(s.issuer, '<span class="muted">unknown</span>'),
    ts,
    s.valid ? '<span class="ok">valid</span>' : `<span class="bad">invalid</span> ${textOr(s.code, '')}<br>${textOr(s.reason, '')}`,
  ];
}

/**
 * Each signature's chain and its timestamp's chain, from the verdict document the catalog kept:
 * subjects leaf first here, each certificate's fingerprint and validity once in the
 * certificates table at the end.
 */
function chains(records: SignatureRecord[], verdict: PayloadEvidence['verdict']): string {
  if (verdict === null) return '<p class="muted">Certificate chains: not stored in the catalog for this payload (only the signer, issuer and timestamp above were recorded).</p>';
  const rows = records.map((r) => {
    const report = verdict.signatures.find((s) => s.index === r.position);
    const label = `${r.position} ${r.nested ? 'nested' : 'primary'}`;
    if (!report) return [label, '<span class="muted">not stored</span>', '<span class="muted">not stored</span>', '<span class="muted">not stored</span>'];
    const ts = report.timestamp === null ? '<span class="muted">no timestamp</span>' : chainList(report.timestamp.chain);
    return [label, textOr(report.verifiedAt, '<span class="muted">not recorded</span>'), chainList(report.chain), ts];
  });
  return table([{ label: 'Signature', width: '13%' }, { label: 'Chain checked at', width: '19%' }, { label: 'Signer chain (leaf first)', width: '34%' }, { label: 'Timestamp signer chain', width: '34%' }], rows);
}

function chainList(chain: ChainEntry[]): string {
  if (chain.length === 0) return '<span class="muted">no chain was built</span>';
  return chain.map((c) => `${escapeHtml(c.subject)}${c.trustAnchor ? ' <b>(trust anchor)</b>' : ''}`).join('<br>');
}

/** Every certificate the chains above name, once: fingerprint and validity. */
function certificatesTable(evidence: Iterable<PayloadEvidence | null>): string {
  const byFingerprint = new Map<string, ChainEntry>();
  for (const ev of evidence) {
    for (const s of ev?.verdict?.signatures ?? []) {
      for (const c of [...s.chain, ...(s.timestamp?.chain ?? [])]) if (!byFingerprint.has(c.sha256)) byFingerprint.set(c.sha256, c);
    }
  }
  if (byFingerprint.size === 0) return '';
  const certs = [...byFingerprint.values()].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.sha256 < b.sha256 ? -1 : 1));
  return ['<h3>Certificates in these chains</h3>', table(
    [{ label: 'Subject', width: '24%' }, { label: 'Issuer', width: '22%' }, { label: 'Valid', width: '14%' }, { label: 'SHA-256 of the certificate', width: '40%', className: 'hash' }],
    certs.map((c) => [`${escapeHtml(c.subject)}${c.trustAnchor ? '<br><b>trust anchor</b>' : ''}`, escapeHtml(c.issuer), `${escapeHtml(c.notBefore.slice(0, 10))}<br>to ${escapeHtml(c.notAfter.slice(0, 10))}`, escapeHtml(c.sha256)]),
  )].join('\n');
}

// ---- small formatting helpers --------------------------------------------------------------------

function digestAlgorithms(signatures: SignatureRecord[]): string {
  const names = [...new Set(signatures.filter((s) => s.valid).map((s) => s.digestAlgorithm).filter((a): a is string => a !== null))];
  const invalid = signatures.filter((s) => !s.valid).length;
  return names.join(' + ') + (invalid > 0 ? ` (${invalid} invalid signature(s) not counted)` : '');
}

function windowsText(h: HostInventory): string {
  const parts = [h.product ?? 'product not stated'];
  if (h.servicePack !== null) parts.push(h.servicePack === 0 ? 'RTM' : `SP${h.servicePack}`);
  parts.push(`NT ${h.ntVersion ?? '?'} build ${h.build ?? '?'}${h.revision !== null ? `.${h.revision}` : ''}`);
  return parts.join(', ');
}

/** Kilobytes, as an admin reads sizes on a change request. */
export function formatKb(bytes: number): string {
  return bytes === 0 ? '0 KB' : `${Math.max(1, Math.round(bytes / 1024)).toLocaleString('en-US')} KB`;
}
