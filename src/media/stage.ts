import fs = require('node:fs');
import path = require('node:path');
import { CabferryError, describeIoError, inputError, internalError, isCabferryError, usageError } from '../errors';
import { openCatalog } from '../catalog/catalog';
import { catalogSignatureTrust } from '../catalog/trust';
import { catalogTrust, describeDistrust, distrustReport, TrustJudge, type Distrust, type DistrustReport } from '../catalog/live-trust';
import { collectScript, loadKnowledgeBase, planHosts, readHostInventories } from '../planner';
import { esuActivationIdsFor, familyForNtVersion, type KnowledgeBase } from '../knowledge/knowledge-base';
import { printable } from '../io/printable';
import { incompleteReasons, planText } from '../planner/present';
import type { IncompleteCause } from '../planner/causes';
import type { HostInventory, HostPlan, PlanGoal } from '../planner/types';
import { version as cabferryVersion } from '../version';
import { copyVerified, hashFile, isMediaTempFile, walkFiles, writeFileAtomic, type HashedFile, type MediaWork } from './files';
import { consoleSteps, consoleStepsText, renderInstallScript, RESULTS_DIR } from './install-script';
import { stagedPlanDocument } from './plan-identity';
import { planRunEndedComplete, resultsOnMedium } from './report';
import { isOutsideManifest, MEDIA, mediaToolFiles } from './layout';
import { MANIFEST_FORMAT, renderSha256Sums, serializeManifest, signDetached, type ManifestEntry, type MediaManifest } from './manifest';
import { loadSigningMaterial, type SigningMaterial } from './signing-material';
import { assertMediaName, FAT32_MAX_FILE_SIZE } from './names';
import { catalogEvidence, manifestSignerOf, renderEvidencePack, type PayloadEvidence } from './html';
import { makeDirectories } from '../io/make-directories';
import { isoTime } from '../iso-time';

/**
 * Staging: plans in, a self-checking medium out.
 *
 *   stageMedia(options)   reads the host inventories, plans each host against the catalog, then
 *   writeMedia(input)     validates names/sizes/space → drops the old manifest → copies each
 *                         payload once (re-hashed while copying, skipped when already there and
 *                         correct) → writes tools, per-host files, README, collect.cmd, SHA256SUMS
 *                         → manifest.json last (temp + rename) → manifest.json.p7s.
 *
 * Until manifest.json exists the medium is visibly unfinished; running again completes it.
 */

export interface StageOptions {
  /** host inventory files (any format the planner reads) */
  hosts: string[];
  to: string;
  /** catalog directory; default as `openCatalog` resolves it */
  catalog?: string;
  goal: PlanGoal;
  allowIncomplete: boolean;
  /** PEM files; both or neither */
  signKey?: string;
  signCert?: string;
  /** passphrase of an encrypted --sign-key */
  signPassphrase?: string;
  /** how the operator supplies that passphrase, named when it is missing (e.g. "--sign-pass-env VAR") */
  signPassphraseHint?: string;
  knowledgeBase?: string;
  /**
   * Stage install scripts as test builds: they honour the CABFERRY_* replacement variables and
   * say so in their header and every log line. For cabferry's own tests, never for real hosts.
   */
  testBuild?: boolean;
  /** called with one line per notable event (copying, skipping, removing stale files) */
  progress?: (line: string) => void;
  /** the bytes stage reads and copies, for a progress bar */
  onWork?: (work: MediaWork) => void;
  now?: Date;
}

export interface StagedHost {
  name: string;
  planId: string;
  complete: boolean;
  steps: number;
  missing: string[];
  /** why the plan is not complete, as the planner said (empty when complete); `missing` lists only the KBs the catalog lacks */
  incomplete: IncompleteCause[];
  /** steps install.cmd does not run under /autoreboot (consoleSteps): run it at the console for them */
  consoleSteps: number[];
  installScript: string;
}

/** Results already on the medium for a staged host, kept (never deleted). */
export interface EarlierResults {
  host: string;
  /** the plan those results belong to (null: a log written before plans had ids) */
  planId: string | null;
  /** where they are now, relative to the medium root */
  path: string;
  /**
   * stage moved them there now: from results/HOST/, where they would be mistaken for progress, or,
   * for the plan staged again after its last run ended complete, from results/HOST/PLANID/
   */
  movedFrom: string | null;
  /** the same plan as staged now: install.cmd resumes from them, unless stage moved them (movedFrom) */
  samePlan: boolean;
}

export interface StageResult {
  dir: string;
  hosts: StagedHost[];
  payloads: { file: string; size: number; sha256: string; copied: boolean }[];
  bytesCopied: number;
  files: number;
  signed: boolean;
  removed: string[];
  manifest: string;
  /** problems that did not stop staging (a signing certificate that chains to no catalog anchor) */
  warnings: string[];
  /** results of earlier plans found on the medium: kept, and named here */
  earlierResults: EarlierResults[];
  testBuild: boolean;
}

export interface WriteMediaInput {
  to: string;
  hosts: { inventory: HostInventory; plan: HostPlan }[];
  /** where the payload with this SHA-256 can be read (the catalog's blob store) */
  blobPath: (sha256: string) => string;
  catalog: string | null;
  allowIncomplete: boolean;
  signing?: SigningMaterial;
  collectCmd: string;
  progress?: (line: string) => void;
  /** the bytes stage reads and copies, for a progress bar */
  onWork?: (work: MediaWork) => void;
  now: Date;
  testBuild?: boolean;
  /** ESU activation IDs with their years per host, for install.cmd's licence check before ESU-only steps */
  esuActivationIds?: (host: HostInventory) => { year: number; id: string }[];
  /** warnings found before writing, passed through to the result */
  warnings?: string[];
  /** the catalog's records of a payload, shown in index.html; without it the page says none are known */
  payloadEvidence?: (sha256: string) => PayloadEvidence | null;
}

export function stageMedia(options: StageOptions): StageResult {
  if ((options.signKey === undefined) !== (options.signCert === undefined)) {
    throw usageError('MEDIA_SIGN_OPTIONS', '--sign-key and --sign-cert go together');
  }
  const inventories = readHostInventories(options.hosts);
  const kb = loadKnowledgeBase(options.knowledgeBase);
  const catalog = openCatalog({ dir: options.catalog, access: 'read' });
  try {
    // checked before anything is planned or written: a key that cannot sign must not cost a copy
    const material = options.signKey !== undefined && options.signCert !== undefined
      ? loadSigningMaterial({
        keyFile: options.signKey,
        certFile: options.signCert,
        passphrase: options.signPassphrase,
        passphraseHint: options.signPassphraseHint,
        trust: catalogSignatureTrust(catalog),
        now: options.now,
      })
      : undefined;
    const signing = material === undefined ? undefined : { keyPem: material.keyPem, certPem: material.certPem };
    const payloads = catalog.payloads();
    const judge = new TrustJudge(catalog, catalogTrust(catalog));
    const plans = planHosts(inventories, payloads, kb, options.goal, (sha256s) => judge.untrusted(sha256s));
    const hosts = inventories.map((inventory, i) => ({ inventory, plan: plans[i]! }));
    if (!options.allowIncomplete) refuseUntrustedPayloads(plans);
    return writeMedia({
      to: options.to,
      hosts,
      blobPath: (sha) => catalog.blobPath(sha),
      // a path on the connected side is nothing the far side can use, and not the medium's to carry
      catalog: null,
      allowIncomplete: options.allowIncomplete,
      signing,
      collectCmd: collectScript(),
      progress: options.progress,
      onWork: options.onWork,
      now: options.now ?? new Date(),
      testBuild: options.testBuild === true,
      esuActivationIds: (host) => esuActivationIdsOf(kb, host),
      warnings: material?.warnings,
      payloadEvidence: catalogEvidence(catalog),
    });
  } finally {
    catalog.close();
  }
}

/** A planned payload the catalog does not trust now, as MEDIA_PAYLOAD_UNTRUSTED's `data.untrusted` lists it. */
export interface UntrustedPlannedPayload extends DistrustReport {
  sha256: string;
  kb: string;
  fileName: string;
  /** the hosts whose plans need it (incomplete without it), in the order they were given */
  hosts: string[];
}

/**
 * Trust is live: the plans never install a payload that does not chain now to an anchor the
 * catalog trusts (planHosts left those out). A plan made incomplete by leaving them out is refused
 * naming them, why, and what to do, before anything is written; --allow-incomplete stages it
 * without them, like any incomplete plan. The same facts are the error's data (`untrusted`), so
 * a script need not read them from the message.
 */
function refuseUntrustedPayloads(plans: HostPlan[]): void {
  const untrusted = new Map<string, { kb: string; fileName: string; hosts: string[]; distrust: Distrust }>();
  for (const p of plans) {
    if (p.complete) continue;
    for (const s of p.skipped) {
      if (s.cause.kind !== 'untrusted') continue;
      const known = untrusted.get(s.cause.sha256);
      if (known === undefined) untrusted.set(s.cause.sha256, { kb: s.kb, fileName: s.cause.file, hosts: [p.host], distrust: s.cause.distrust });
      else if (!known.hosts.includes(p.host)) known.hosts.push(p.host);
    }
  }
  if (untrusted.size === 0) return;
  const entries = [...untrusted].map(([sha256, u]): UntrustedPlannedPayload => ({ sha256, kb: u.kb, fileName: u.fileName, hosts: u.hosts, ...distrustReport(u.distrust) }));
  // one sentence per reason (and remedy), naming the payloads it holds for
  const byReason = new Map<string, string[]>();
  for (const e of entries) {
    const reason = `${describeDistrust(e.distrust, false)}; ${e.remedy}`;
    byReason.set(reason, [...(byReason.get(reason) ?? []), `${e.kb} (${e.sha256.slice(0, 12)}…)`]);
  }
  const sentences = [...byReason].map(([reason, named]) => `${named.join(', ')}: not trusted now: ${reason}`);
  throw new CabferryError(
    'negative',
    'MEDIA_PAYLOAD_UNTRUSTED',
    `${sentences.join('; ')} — the plan is incomplete without them (\`cabferry plan\` shows what is missing; --allow-incomplete stages it without them)`,
    { data: { untrusted: entries } },
  );
}

export function writeMedia(input: WriteMediaInput): StageResult {
  try {
    return writeMediaSteps(input);
  } catch (e) {
    throw asMediaWriteError(e);
  }
}

/**
 * A raw file-system error from any step that changes the medium (mkdir, rename, remove, fsync
 * on a full or failing stick) as one storage error naming the path; typed errors pass through.
 */
function asMediaWriteError(e: unknown): unknown {
  if (isCabferryError(e) || !(e instanceof Error) || typeof (e as NodeJS.ErrnoException).code !== 'string') return e;
  const { syscall, path: file } = e as NodeJS.ErrnoException;
  return internalError('MEDIA_WRITE', `${syscall ?? 'write'} failed: ${describeIoError(e)}`, { file, cause: e });
}

/**
 * The folders stage writes into must be the medium's own: a hosts/, payloads/, tools/ or
 * results/ that is a symbolic link (or not a folder) would send the copy somewhere else.
 * Checked before anything on the medium changes.
 */
function refuseLinkedMediaFolders(to: string): void {
  for (const dir of [MEDIA.payloads, MEDIA.tools, MEDIA.hosts, MEDIA.results]) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(to, dir));
    } catch {
      continue; // created below
    }
    if (st.isSymbolicLink()) throw inputError('MEDIA_SYMLINK', `${dir}/ on the medium is a symbolic link; stage writes only into the medium's own folders (remove the link)`, { file: path.join(to, dir) });
    if (!st.isDirectory()) throw inputError('MEDIA_NOT_FOLDER', `${dir} on the medium is not a folder`, { file: path.join(to, dir) });
  }
}

function writeMediaSteps(input: WriteMediaInput): StageResult {
  const to = path.resolve(input.to);
  const progress = input.progress ?? (() => undefined);
  checkPlans(input.hosts, input.allowIncomplete);
  // an unusable key or certificate must fail before the medium is touched, not after the copy
  if (input.signing) signDetached(Buffer.alloc(0), input.signing, input.now);
  const payloads = payloadsOf(input.hosts.map((h) => h.plan), input.blobPath);

  makeDirectories(to);
  refuseLinkedMediaFolders(to);
  // the real work, in bytes: each payload of the right size already there is re-hashed, every
  // other one copied. Until the re-hash says which are correct the total counts a copy of each;
  // then it is corrected to exactly what is left.
  const work = input.onWork ?? (() => undefined);
  const bytesOf = (list: PayloadToCopy[]): number => list.reduce((n, p) => n + p.size, 0);
  const sameSize = payloads.filter((p) => {
    const dest = path.join(to, MEDIA.payloads, p.file);
    return fs.existsSync(dest) && fs.statSync(dest).size === p.size;
  });
  work({ type: 'total', bytes: bytesOf(sameSize) + bytesOf(payloads) });
  const present = new Map<string, HashedFile>();
  for (const p of sameSize) {
    const rel = `${MEDIA.payloads}/${p.file}`;
    const h = hashFile(path.join(to, ...rel.split('/')), (bytes) => work({ type: 'bytes', bytes, label: rel }));
    if (h.sha256 === p.sha256) present.set(p.file, h);
  }
  const toCopy = payloads.filter((p) => !present.has(p.file));
  work({ type: 'total', bytes: bytesOf(sameSize) + bytesOf(toCopy) });
  checkFreeSpace(to, bytesOf(toCopy));

  // from here on the medium changes: an interrupted run must not leave the previous manifest
  // claiming the new content
  for (const f of [MEDIA.manifest, MEDIA.signature]) fs.rmSync(path.join(to, f), { force: true });
  for (const dir of [MEDIA.payloads, MEDIA.tools, MEDIA.hosts]) fs.mkdirSync(path.join(to, dir), { recursive: true });

  const entries: ManifestEntry[] = [];
  const stagedPayloads: StageResult['payloads'] = [];
  let bytesCopied = 0;
  for (const p of payloads) {
    const rel = `${MEDIA.payloads}/${p.file}`;
    let copied = false;
    if (present.has(p.file)) {
      progress(`${rel}: already on the media and correct`);
    } else {
      progress(`${rel}: copying ${p.size} bytes`);
      copyVerified(p.source, path.join(to, rel), p.sha256, (bytes) => work({ type: 'bytes', bytes, label: rel }));
      bytesCopied += p.size;
      copied = true;
    }
    entries.push({ path: rel, size: p.size, sha256: p.sha256 });
    stagedPayloads.push({ file: p.file, size: p.size, sha256: p.sha256, copied });
  }

  const payloadSizes = new Map(payloads.map((p) => [p.file.toLowerCase(), p.size]));
  const write = (rel: string, content: Buffer | string): void => {
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    const h = writeFileAtomic(path.join(to, rel), content);
    entries.push({ path: rel, size: h.size, sha256: h.sha256 });
  };
  for (const t of mediaToolFiles()) write(t.path, t.content);
  const staged: StagedHost[] = [];
  const earlierResults: EarlierResults[] = [];
  for (const { inventory, plan } of input.hosts) {
    const dir = `${MEDIA.hosts}/${plan.host}`;
    const doc = stagedPlanDocument(inventory, plan);
    const scriptOptions = {
      version: cabferryVersion, generatedAt: isoTime(input.now), testBuild: input.testBuild === true, esuActivationIds: input.esuActivationIds?.(inventory) ?? [],
      // the size each payload has in the manifest: the file copied (or found correct) on the medium
      payloadSize: (file: string) => payloadSizes.get(file.toLowerCase()),
    };
    write(`${dir}/install.cmd`, renderInstallScript(plan, inventory, scriptOptions));
    write(`${dir}/plan.json`, JSON.stringify(doc, null, 2) + '\n');
    write(`${dir}/plan.txt`, '\ufeff' + planFileText(plan, inventory, doc.planId));
    earlierResults.push(...setAsideEarlierResults(to, plan.host, doc.planId, input.now, progress));
    staged.push({ name: plan.host, planId: doc.planId, complete: plan.complete, steps: plan.steps.length, missing: plan.missing.map((m) => m.kb), incomplete: plan.incomplete, consoleSteps: consoleSteps(plan.steps), installScript: `${dir}/install.cmd` });
  }
  write(MEDIA.collect, input.collectCmd.replace(/\r?\n/g, '\r\n'));
  write(MEDIA.readme, readmeText(staged, input.now, input.testBuild === true).replace(/\r?\n/g, '\r\n'));
  // the evidence pack is written before the manifest so that manifest.json lists (and signs) it
  write(MEDIA.evidencePack, renderEvidencePack({
    createdAt: isoTime(input.now), cabferryVersion, catalog: input.catalog, hosts: input.hosts, payloads: stagedPayloads,
    evidence: input.payloadEvidence ?? (() => null), manifestSigner: input.signing ? manifestSignerOf(input.signing) : null,
  }));

  const removed = removeStale(to, new Set(entries.map((e) => e.path)), progress);
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  write(MEDIA.sums, renderSha256Sums(entries));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const manifest: MediaManifest = {
    format: MANIFEST_FORMAT,
    cabferryVersion,
    createdAt: isoTime(input.now),
    catalog: input.catalog,
    hosts: staged.map(({ name, planId, complete, steps, missing }) => ({ name, planId, complete, steps, missing })),
    files: entries,
  };
  const manifestBytes = serializeManifest(manifest);
  // the signature first: manifest.json is what marks the medium finished, so a run killed
  // between the two must leave no manifest rather than a manifest whose signature is missing
  if (input.signing) writeFileAtomic(path.join(to, MEDIA.signature), signDetached(manifestBytes, input.signing, input.now));
  writeFileAtomic(path.join(to, MEDIA.manifest), manifestBytes);

  return {
    dir: to,
    hosts: staged,
    payloads: stagedPayloads,
    bytesCopied,
    files: entries.length,
    signed: input.signing !== undefined,
    removed,
    manifest: path.join(to, MEDIA.manifest),
    warnings: [...(input.warnings ?? [])],
    earlierResults,
    testBuild: input.testBuild === true,
  };
}

/** Host names unique and usable as folder names; incomplete plans only with allowIncomplete. */
function checkPlans(hosts: { inventory: HostInventory; plan: HostPlan }[], allowIncomplete: boolean): void {
  if (hosts.length === 0) throw usageError('MEDIA_NO_HOSTS', 'no host to stage for');
  const seen = new Set<string>();
  for (const { plan } of hosts) {
    assertMediaName(plan.host, 'host name');
    const key = plan.host.toLowerCase();
    if (seen.has(key)) throw inputError('MEDIA_DUPLICATE_HOST', `host ${plan.host} is given twice (host names are case-insensitive on Windows)`);
    seen.add(key);
  }
  const incomplete = hosts.filter((h) => !h.plan.complete);
  if (incomplete.length > 0 && !allowIncomplete) {
    const what = incomplete.map((h) => `${h.plan.host} (${incompleteReasons(h.plan).join('; ')})`).join('; ');
    throw new CabferryError('negative', 'MEDIA_PLAN_INCOMPLETE', `incomplete plan for ${what}: do what is named and plan again, or stage anyway with --allow-incomplete`);
  }
}

interface PayloadToCopy {
  file: string;
  sha256: string;
  size: number;
  source: string;
}

/** Each payload once, however many hosts need it; one name must always mean one content. */
function payloadsOf(plans: HostPlan[], blobPath: (sha256: string) => string): PayloadToCopy[] {
  const byName = new Map<string, PayloadToCopy>();
  for (const plan of plans) {
    for (const step of plan.steps) {
      if (step.action !== 'install') continue;
      if (step.file === null || step.sha256 === null) {
        throw inputError('MEDIA_PLAN_STEP_INCOMPLETE', `host ${plan.host}: step ${step.n} names no payload file or SHA-256`);
      }
      const file = assertMediaName(step.file, 'payload file');
      const key = file.toLowerCase();
      const known = byName.get(key);
      if (known) {
        if (known.sha256 !== step.sha256) {
          throw inputError('MEDIA_PAYLOAD_NAME_CLASH', `two different payloads are both called ${file} (${known.sha256} and ${step.sha256})`);
        }
        continue;
      }
      const source = blobPath(step.sha256);
      let size: number;
      try {
        size = fs.statSync(source).size;
      } catch (e) {
        throw internalError('MEDIA_BLOB_MISSING', `the catalog has no blob for ${file} (${step.sha256}): run cabferry catalog check`, { file: source, cause: e });
      }
      if (size > FAT32_MAX_FILE_SIZE) {
        throw inputError('MEDIA_FILE_TOO_LARGE', `${file} is ${size} bytes; FAT32 cannot hold a file of 4 GiB or more`);
      }
      byName.set(key, { file, sha256: step.sha256, size, source });
    }
  }
  return [...byName.values()].sort((a, b) => a.file.localeCompare(b.file));
}

/** Room for the payloads still to copy, plus 1 MiB for scripts, plans and the manifest. */
function checkFreeSpace(dir: string, bytesToCopy: number): void {
  const st = fs.statfsSync(dir);
  const free = Number(st.bavail) * Number(st.bsize);
  const needed = bytesToCopy + (1 << 20);
  if (free < needed) {
    throw internalError('MEDIA_NO_SPACE', `${dir} has ${free} bytes free, staging needs ${needed}`, { file: dir });
  }
}

/**
 * Files a previous run left in cabferry's own folders (payloads/, hosts/, tools/) that this
 * staging does not contain: removed, so the manifest describes the medium exactly. Anything
 * else the operator put on the medium is left alone (verify-media reports it as unexpected).
 */
function removeStale(to: string, keep: Set<string>, progress: (line: string) => void): string[] {
  const removed: string[] = [];
  const owned = [MEDIA.payloads, MEDIA.hosts, MEDIA.tools];
  for (const rel of walkFiles(to).files) {
    if (keep.has(rel) || isOutsideManifest(rel) || rel === MEDIA.sums) continue;
    // a temp file of a killed run is ours wherever it is (e.g. manifest.json.p7s.cabferry-tmp
    // when this run does not sign, so nothing would reuse the name)
    if (!owned.some((d) => rel.startsWith(`${d}/`)) && !isMediaTempFile(rel)) continue;
    fs.rmSync(path.join(to, ...rel.split('/')), { force: true });
    progress(`${rel}: removed (not part of this staging)`);
    removed.push(rel);
  }
  return removed;
}

function planFileText(plan: HostPlan, host: HostInventory, planId: string): string {
  const lines: string[] = [];
  if (!plan.complete) {
    lines.push('!!! INCOMPLETE PLAN - staged with --allow-incomplete. The host will not be current after it runs:');
    for (const reason of incompleteReasons(plan)) lines.push(`!!!   ${reason}`);
    for (const m of plan.missing) lines.push(`!!!   ${m.kb}: ${m.reason}`);
    lines.push('');
  }
  lines.push(`Host ${host.name}: ${host.product ?? 'product not stated'}, NT ${host.ntVersion ?? '?'} build ${host.build ?? '?'}, ${host.architecture ?? 'architecture not stated'}`);
  lines.push(`Plan ${planId}`);
  lines.push(`Install with: hosts\\${plan.host}\\install.cmd (as Administrator)`);
  lines.push(`Results: ${RESULTS_DIR}\\${plan.host}\\${planId}\\result.log`);
  lines.push('');
  // inventories and metadata are inputs: nothing in them may reach a reader's terminal raw
  return printable(lines.join('\n') + planText(plan, false), true);
}

/**
 * Results on the medium for a host being staged. Those of the plan being staged stay where they
 * are while its last run has not ended complete: install.cmd resumes from them. Once it has, they
 * are moved into results/HOST/earlier-TIME/: a medium staged again with the same plan (the same
 * inventory, the same catalog) starts it afresh on the host, where install.cmd checks again what
 * the plan rests on and every update, and report does not call the host complete on a run from
 * before this staging, which may be all a re-used stick carries. Files directly in results/HOST/
 * (written before plans had ids) go there too, where no install.cmd reads them as progress; other
 * plans' folders are left as they are. Nothing is deleted; all of it is listed.
 */
function setAsideEarlierResults(to: string, host: string, planId: string, now: Date, progress: (line: string) => void): EarlierResults[] {
  const hostDir = path.join(to, MEDIA.results, host);
  if (!fs.existsSync(hostDir)) return [];
  const loose = fs.readdirSync(hostDir, { withFileTypes: true }).filter((e) => !e.isDirectory());
  const finished = planRunEndedComplete(to, host, planId);
  let earlier: string | null = null;
  const earlierFolder = (): string => {
    if (earlier !== null) return earlier;
    const stamp = isoTime(now).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let name = `earlier-${stamp}`;
    for (let i = 2; fs.existsSync(path.join(hostDir, name)); i++) name = `earlier-${stamp}-${i}`;
    fs.mkdirSync(path.join(hostDir, name));
    earlier = name;
    return name;
  };
  const movedFrom = new Map<string, string>();
  if (loose.length > 0) {
    const name = earlierFolder();
    for (const e of loose) fs.renameSync(path.join(hostDir, e.name), path.join(hostDir, name, e.name));
    movedFrom.set(`${MEDIA.results}/${host}/${name}/`, `${MEDIA.results}/${host}`);
    progress(`${MEDIA.results}/${host}: results of an earlier plan moved to ${MEDIA.results}/${host}/${name} (kept)`);
  }
  if (finished) {
    const name = earlierFolder();
    fs.renameSync(path.join(hostDir, planId), path.join(hostDir, name, planId));
    movedFrom.set(`${MEDIA.results}/${host}/${name}/${planId}/`, `${MEDIA.results}/${host}/${planId}`);
    progress(`${MEDIA.results}/${host}/${planId}: this plan's last run ended complete; its results moved to ${MEDIA.results}/${host}/${name}/${planId} (kept), so the plan starts afresh on the host`);
  }
  return resultsOnMedium(to, host).map((r) => ({
    host,
    planId: r.planId,
    path: r.path,
    movedFrom: [...movedFrom].find(([prefix]) => r.path.startsWith(prefix))?.[1] ?? null,
    samePlan: r.planId === planId,
  }));
}

/** The ESU activation IDs the knowledge base lists for the host's family and product, each with its year (install.cmd checks a step's year's only). */
function esuActivationIdsOf(kb: KnowledgeBase, host: HostInventory): { year: number; id: string }[] {
  const esu = familyForNtVersion(kb, host.ntVersion)?.esu ?? null;
  if (esu === null) return [];
  return esu.years.flatMap((y) => esuActivationIdsFor(esu, host.product, y.year).map((id) => ({ year: y.year, id })));
}

function readmeText(hosts: StagedHost[], now: Date, testBuild: boolean): string {
  const incomplete = hosts.filter((h) => !h.complete);
  return [
    'cabferry update media',
    '=====================',
    '',
    ...(testBuild ? ['!!! TEST BUILD (staged with --test-build): the install scripts honour test hooks. NOT FOR REAL HOSTS.', ''] : []),
    `Staged ${isoTime(now)} by cabferry ${cabferryVersion} for ${hosts.length} host(s).`,
    ...(incomplete.length > 0
      ? ['', '!!! WARNING: INCOMPLETE PLANS (staged with --allow-incomplete) for:', ...incomplete.map((h) => `!!!   ${h.name}: ${incompleteReasons(h).join('; ')}`)]
      : []),
    '',
    'index.html (open it in any browser, or print it) shows each host\'s plan, what was skipped',
    'and why, and the signatures of every payload as checked when it was imported.',
    '',
    'On each host, as Administrator, run the script in its own folder:',
    ...hosts.map((h) => `  hosts\\${h.name}\\install.cmd      (${h.steps} steps, plan ${h.planId})${h.consoleSteps.length > 0 ? `\n    ${consoleStepsText(h.consoleSteps)}` : ''}`),
    '',
    'It checks that it runs on the host it was planned for and, on its first run, that the host',
    'still has every update the plan took as installed (if one is gone it refuses, exit code 2:',
    'collect a new inventory and plan again). It checks the SHA-256 of each payload before',
    'installing it, and installs in the planned order. When a step needs a restart it',
    'stops (exit code 3010): restart the host and run install.cmd again - it continues where it',
    'stopped. With /autoreboot it restarts and continues by itself (a scheduled task).',
    'It counts a restart as done only when the host proves it: no restart pending, and the',
    'time Windows records at each clean shutdown or restart (ShutdownTime in the registry)',
    'changed since the restart was asked for. The clock proves nothing: a clock set forward',
    'moves the boot time without a restart. Where the host cannot show it (a crash or power',
    'cut records no shutdown, or the value cannot be read), it says so; if the host did',
    'restart, run install.cmd /restarted: that is taken on your word and logged as such,',
    'never as a proven restart.',
    'At the end it exits 0 only when every step is done and the host lists every update it',
    'installed; it exits 1 when an installer called a planned update not applicable (the host',
    'still lacks it) or reported one installed that the host does not list. Either way it says',
    'which on screen and in the result log.',
    'If the host cannot compute SHA-256 the script stops; /skiphashcheck overrides that, only',
    'after the media was checked with "cabferry verify-media".',
    '',
    'Before it records an update as installed, and before it skips one its state file calls',
    'done, it looks the update up on the host itself (the servicing package list in the',
    'registry, or the hotfix list): the state file only says where to resume.',
    '',
    'Progress and results are written to results\\HOSTNAME\\PLAN\\ on this media, one folder',
    'per plan, so a stick staged again never mistakes an earlier plan\'s results for progress.',
    'A plan staged again after it ran to completion starts afresh: its old results are in',
    'results\\HOSTNAME\\earlier-TIME\\.',
    'Bring the media back and run "cabferry report DIR" to see what was installed (and found on',
    'the host), what failed and what was not reached.',
    '',
    'No plan for a host yet? Run collect.cmd on it (as Administrator): it writes an inventory',
    'file that "cabferry plan" and "cabferry stage" read. It says "Done" only when it read the',
    'file back whole; when it says it cannot write it (the media is write-protected or full),',
    'an inventory file of that host still on the media is an earlier one: do not bring it back.',
    '',
    'Checking the media: "cabferry verify-media DIR --trust CERT" re-hashes every file against',
    'manifest.json and checks its signature (manifest.json.p7s); it succeeds only when the',
    'signature verifies. Without cabferry, "sha256sum -c SHA256SUMS" checks the hashes (not the',
    'signature, so it does not prove where the media came from).',
    '',
  ].join('\n');
}
