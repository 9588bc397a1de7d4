import fs = require('node:fs');
import path = require('node:path');
import { hashFile, walkFiles, type MediaWork } from './files';
import { isOutsideManifest } from './layout';
import { type MediaManifest } from './manifest';
import { readManifest, signatureVerdict, type IntegrityOptions, type SignatureVerdict } from './media-integrity';
import { isStagedPlanLog, readStagedPlan, resultsOnMedium, stagedVerdict, type PlanResults } from './report';
import { consoleSteps } from './install-script';
import { CabferryError } from '../errors';
import type { IncompleteCause } from '../planner/causes';
import type { PlanGoal } from '../planner/types';

/**
 * verify-media: is the medium exactly what was staged, and is that proven?
 * Every manifest entry is re-hashed (streamed); files on the medium that the manifest does not
 * list are reported (except results/, which install.cmd writes on the far side); the detached
 * signature must verify against a trust anchor (media-integrity.ts). Per host, the results on
 * the medium are listed with the plan they belong to, and what each staged plan is: an operator
 * checking a stick before carrying it across learns there, not on the far side, that a plan will
 * not make its host current.
 */

/** The anchors for manifest.json.p7s and whether an unsigned medium is accepted (media-integrity.ts). */
export interface VerifyMediaOptions extends IntegrityOptions {
  /** the bytes re-hashed, for a progress bar */
  onWork?: (work: MediaWork) => void;
}

export interface AlteredFile {
  path: string;
  expectedSize: number;
  actualSize: number;
  expectedSha256: string;
  actualSha256: string | null;
  reason: string;
}

export interface HostResults {
  host: string;
  /** the plan staged for this host (null when its plan.json is not the staged one) */
  planId: string | null;
  /** result logs on the medium; `current` for the staged plan's own (results/HOST/PLAN/result.log, the one report reads) */
  results: (PlanResults & { current: boolean })[];
}

/**
 * A host's staged plan as its plan.json says, when that file is believed (readStagedPlan: the
 * manifest's bytes, its id its own); `problem` says why it is not.
 */
export interface HostPlanOnMedium {
  host: string;
  planId: string | null;
  /** consoleSteps: the steps install.cmd does not run under /autoreboot */
  plan: { complete: boolean; steps: number; goal: PlanGoal | null; incomplete: IncompleteCause[]; consoleSteps: number[] } | null;
  problem: string | null;
}

export interface VerifyMediaReport {
  dir: string;
  ok: boolean;
  manifest: Pick<MediaManifest, 'cabferryVersion' | 'createdAt' | 'catalog' | 'hosts'>;
  checked: number;
  missing: string[];
  altered: AlteredFile[];
  unexpected: string[];
  signature: SignatureVerdict;
  /** each host of the manifest and its staged plan */
  hosts: HostPlanOnMedium[];
  /** what hosts wrote back (results/HOST/…), per host and plan */
  results: HostResults[];
}

export function verifyMedia(dir: string, options: VerifyMediaOptions): VerifyMediaReport {
  const root = path.resolve(dir);
  const { manifest, bytes } = readManifest(root);

  const missing: string[] = [];
  const altered: AlteredFile[] = [];
  const listed = new Set<string>();
  // the real work is re-hashing every listed file: sized by the manifest, corrected as files turn out missing or of another size
  const work = options.onWork ?? (() => undefined);
  let total = manifest.files.reduce((n, f) => n + f.size, 0);
  const correctTotal = (by: number): void => {
    total += by;
    if (by !== 0) work({ type: 'total', bytes: total });
  };
  work({ type: 'total', bytes: total });
  for (const entry of manifest.files) {
    listed.add(entry.path);
    const abs = path.join(root, ...entry.path.split('/'));
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      missing.push(entry.path);
      correctTotal(-entry.size);
      continue;
    }
    const base = { path: entry.path, expectedSize: entry.size, expectedSha256: entry.sha256 };
    if (!st.isFile()) {
      correctTotal(-entry.size);
      altered.push({ ...base, actualSize: st.size, actualSha256: null, reason: st.isSymbolicLink() ? 'is a symbolic link' : 'is not a regular file' });
      continue;
    }
    correctTotal(st.size - entry.size);
    const h = hashFile(abs, (bytes) => work({ type: 'bytes', bytes, label: entry.path }));
    if (h.sha256 !== entry.sha256 || h.size !== entry.size) {
      altered.push({ ...base, actualSize: h.size, actualSha256: h.sha256, reason: h.size !== entry.size ? `size ${h.size}, expected ${entry.size}` : 'content differs' });
    }
  }

  const walked = walkFiles(root);
  const unexpected = [...walked.files, ...walked.special].filter((rel) => !listed.has(rel) && !isOutsideManifest(rel)).sort();
  const signature = signatureVerdict(root, bytes, options);
  const hosts = manifest.hosts.map((h) => stagedHost(root, h.name, manifest));
  const results = hosts.map(({ host, planId }): HostResults => {
    // current: the log report reads for the staged plan, and no copy of it elsewhere
    return { host, planId, results: resultsOnMedium(root, host).map((r) => ({ ...r, current: isStagedPlanLog(r, host, planId) })) };
  }).filter((h) => h.results.length > 0);
  // a host whose plan.json is not believed cannot be reported on when the stick comes back: the
  // medium is not as cabferry stages it, even when every file is the manifest's
  const ok = missing.length === 0 && altered.length === 0 && unexpected.length === 0 && signature.proven && hosts.every((h) => h.plan !== null);
  return {
    dir: root,
    ok,
    manifest: { cabferryVersion: manifest.cabferryVersion, createdAt: manifest.createdAt, catalog: manifest.catalog, hosts: manifest.hosts },
    checked: manifest.files.length,
    missing,
    altered,
    unexpected,
    signature,
    hosts,
    results,
  };
}

/**
 * What a host's plan.json says of its plan. A plan.json that is the manifest's bytes but no plan
 * (possible only on an unsigned or forged medium) is reported as not believed, with its error's
 * message: verify-media reports a medium, it does not stop at its first odd file.
 */
function stagedHost(root: string, host: string, manifest: MediaManifest): HostPlanOnMedium {
  let staged: ReturnType<typeof readStagedPlan>;
  try {
    staged = readStagedPlan(root, host, manifest);
  } catch (e) {
    if (e instanceof CabferryError && e.code === 'MEDIA_PLAN_UNREADABLE') return { host, planId: null, plan: null, problem: e.message };
    throw e;
  }
  const p = staged.plan;
  if (p === null) return { host, planId: null, plan: null, problem: staged.problem };
  const verdict = stagedVerdict(p);
  return { host, planId: staged.planId, plan: { complete: verdict.complete, steps: p.steps.length, goal: p.goal ?? null, incomplete: verdict.incomplete, consoleSteps: consoleSteps(p.steps) }, problem: null };
}
