import type { Architecture, Payload, PayloadKind } from '../package/types';
import type { CatalogCurrency, IncompleteCause, MissingCause, SkipCause, SkipReason } from './causes';

/** What is known about a disconnected host; `null` means "not reported". */
export interface HostInventory {
  name: string;
  /** "Windows Server 2008", "Windows 7", "Windows Server 2008 R2", … */
  product: string | null;
  ntVersion: string | null;
  /** 6002, 6003, 7601 … */
  build: number | null;
  revision: number | null;
  architecture: Architecture | null;
  /** 0 for RTM, 1, 2 … */
  servicePack: number | null;
  /** KB numbers, normalised "KB1234567" */
  installed: string[];
  servicingStackVersion: string | null;
  /** SHA-2 code-signing support active (KB4474419 installed and rebooted) */
  sha2CodeSigning: boolean | null;
  pendingReboot: boolean | null;
  /** which input format(s) this came from: "systeminfo", "wmic-qfe", "get-hotfix", "profile", "collect" */
  sources: string[];
  /** facts the input did not state ('installed' when no file of this host held an installed-update list) */
  unknown: string[];
  /** the sections of an inventory the planner relies on, and whether the input held them */
  sections: InventorySections;
  /** ESU licence status from the collect script's licence section; null when the inventory does not say */
  esuLicence: 'activated' | 'not-activated' | null;
  /**
   * with esuLicence 'activated': the ESU years whose licence is activated (from the licence names,
   * "Server-ESU-Year1"); null or absent when the inventory does not say which years. An ESU update
   * needs its own year's licence (knowledge base esu.years)
   */
  esuActivatedYears?: number[] | null;
  /** the inventory files this host was built from (readHostInventories fills it) */
  files: string[];
  /** what each file claimed, so that a contradiction can name who said what (readHostInventories fills it) */
  evidence: InventoryEvidence[];
  /** facts on which the files of this host disagree; such a fact is left unknown (null) */
  conflicts: InventoryConflict[];
  /**
   * the updates an installed-update list names that are not taken as installed: a collect file's CBS
   * section says they are not on the host, or another whole hotfix list of the host does not name
   * them (absent: none)
   */
  overruled?: OverruledInstalledClaim[];
  /**
   * the updates Win32_QuickFixEngineering listed, when the file holds that whole list (systeminfo's
   * hotfix list, wmic qfe, Get-HotFix, a collect file's qfe section, before CBS judged them): one
   * witness, so two such lists of one host taken at one time name the same updates
   */
  qfeList?: string[];
  /**
   * what the CBS section of a single collect file says (parseCollectFile); readHostInventories keeps
   * it in that file's evidence, which is what merging reads, and a merged inventory has none
   */
  servicing?: ServicingFacts;
}

export interface InventorySections {
  /** the installed-update list (systeminfo "Hotfix(s):", a qfe / Get-HotFix table, a profile's "installed") */
  hotfixes: boolean;
}

/** The facts one inventory file stated. */
export interface InventoryEvidence {
  file: string;
  facts: Partial<Record<HostFact, string | number | boolean>>;
  installed: string[];
  /** the file's whole Win32_QuickFixEngineering list (HostInventory.qfeList); absent when it holds none */
  qfeList?: string[];
  /** what the file's CBS section says (a collect file whose cbs section was read); absent for others */
  servicing?: ServicingFacts;
}

/**
 * What CBS's package states (Component Based Servicing\Packages\…\CurrentState) say of the host's
 * updates: the authority on what is on the host now. A hotfix list (wmic qfe, Get-HotFix, systeminfo:
 * all read Win32_QuickFixEngineering) names an update from its install on, before the restart that
 * commits it or rolls it back, and until its removal is committed.
 */
export interface ServicingFacts {
  /** the updates CBS names a package of, every package of each in a state that is on the host (installed, permanent, superseded) */
  onHost: string[];
  /** the updates CBS names a package of with a package in another state: that state (the first such package's) */
  notOnHost: { kb: string; state: number }[];
  /**
   * the state of the newest monthly rollup's package named RollupFix (no KB in its name; the highest
   * version ending the key name, the least installed of several keys of that version) when it is not
   * on the host, or null. While it is not, an update CBS names no package of may be that rollup: only
   * `onHost` is believed of what a hotfix list names. Older rollups' RollupFix packages do not count
   */
  rollupFix: number | null;
}

/**
 * An update an installed-update list names that is not taken as installed: a collect file's CBS
 * section says it is not on the host (`by` 'cbs'), or another whole hotfix list of the same host
 * does not name it (`by` 'lists').
 */
export type OverruledInstalledClaim = OverruledByCbs | OverruledByLists;

/**
 * Whole Win32_QuickFixEngineering lists of one host that disagree about `kb` (and no CBS section
 * says it is on the host): the files are of another host or of another time, and which one is
 * right about the host now nothing tells. The update is installed again; install.cmd finds it
 * 'already installed' if it is there.
 */
export interface OverruledByLists {
  by: 'lists';
  kb: string;
  /** the files whose hotfix list names the update */
  listedBy: string[];
  /** the files whose whole hotfix list does not */
  notListedBy: string[];
  inferredFrom?: undefined;
}

export interface OverruledByCbs {
  by: 'cbs';
  kb: string;
  /** the files whose installed-update list (hotfix list) names the update */
  listedBy: string[];
  /** the collect file whose CBS section says otherwise */
  cbsFile: string;
  /**
   * 'kb': a package of the update itself is in `state`; 'rollup-fix': CBS names no package of the
   * update, and a RollupFix package (a monthly rollup's, naming no KB) is in `state`: the update may be that rollup
   */
  package: 'kb' | 'rollup-fix';
  /** the package's CurrentState, one that is not on the host (0x60 install pending, 0x05 uninstall pending, …) */
  state: number;
  /**
   * the host's fact from which the planner would otherwise have counted the update as installed
   * (host-state.ts, hostBaseline): the service pack level, the servicing stack version an SSU brings,
   * the SHA-2 registry values KB4474419 sets. Absent when only a hotfix list named the update
   * (`listedBy` is then not empty; with an inference it may be)
   */
  inferredFrom?: InferredFrom;
}

/** A fact of the host from which the planner counts an update as installed that no list (or CBS) names. */
export type InferredFrom =
  | { fact: 'servicePack'; value: number }
  | { fact: 'servicingStackVersion'; value: string; brings: string }
  | { fact: 'sha2CodeSigning'; value: true };

export type HostFact = 'product' | 'ntVersion' | 'build' | 'revision' | 'architecture' | 'servicePack' | 'servicingStackVersion' | 'sha2CodeSigning' | 'pendingReboot' | 'esuLicence';

/** Every HostFact, in the order the inventory reader fills and reports them. */
export const HOST_FACTS: readonly HostFact[] = [
  'product', 'ntVersion', 'build', 'revision', 'architecture', 'servicePack', 'servicingStackVersion', 'sha2CodeSigning', 'pendingReboot', 'esuLicence',
];

/** One claim about a host: what was said and where ("the inventory" when no file is known). */
export interface FactClaim {
  claim:
    | { kind: 'fact'; fact: HostFact; value: string | number | boolean }
    | { kind: 'installed'; kb: string; implies: { fact: HostFact; value: string | number | boolean } };
  files: string[];
}

/** Two claims about one host that cannot both be true; the planner believes neither. */
export interface InventoryConflict {
  fact: HostFact;
  claims: FactClaim[];
}

export type PlanGoal =
  | { kind: 'current' }
  | { kind: 'target'; kbs: string[] }
  | { kind: 'security-only' };

export interface PlanStep {
  n: number;
  action: 'install' | 'reboot';
  kb: string | null;
  file: string | null;
  sha256: string | null;
  kind: PayloadKind | 'reboot';
  reason: string;
  /**
   * for an executable payload (.exe): the silent switches install.cmd runs it with, from the
   * knowledge base (silentSwitches, with its switchesSource); absent for .msu/.cab steps
   */
  switches?: string[];
  /**
   * for an executable the knowledge base says schedules a restart of its own (schedulesOwnRestart):
   * install.cmd cancels that restart after the step (`shutdown /a`); absent for every other step
   */
  cancelsOwnRestart?: true;
  /** the host state after this step (always computed; the CLI prints it with --simulate) */
  stateAfter?: SimulatedState;
  /** the update needs an activated ESU key: install.cmd checks activation on the host before this step */
  requiresEsu?: boolean;
  /**
   * with requiresEsu: the ESU year the update was released in (knowledge base esu.years), whose
   * licence it needs; install.cmd checks that year's activation IDs. Absent when no year covers it
   */
  esuYear?: number;
}

export interface SimulatedState {
  build: number | null;
  revision: number | null;
  servicingStackVersion: string | null;
  /** the newest servicing stack update installed so far (its version may not be known) */
  servicingStackKb: string | null;
  sha2Active: boolean;
  rebootPending: boolean;
  /** the service pack level */
  servicePack: number | null;
}

export interface HostPlan {
  host: string;
  /** the inventory files the host was built from */
  files: string[];
  /**
   * what the plan was made to reach: "complete" is complete against it. The planner always sets it;
   * a plan.json staged by an older cabferry has none (nothing then says the plan was only for targets)
   */
  goal?: PlanGoal;
  /** true exactly when `incomplete` is empty */
  complete: boolean;
  /** why the plan is not complete, as data (present.ts words it) */
  incomplete: IncompleteCause[];
  steps: PlanStep[];
  /** `reason` is `cause` in words (present.ts), kept for the --json contract and plan.txt */
  missing: { kb: string; reason: string; fileHint?: string; cause: MissingCause }[];
  /** `detail` is `cause` in words (present.ts) */
  skipped: { kb: string; reason: SkipReason; detail?: string; cause: SkipCause }[];
  assumptions: string[];
  /**
   * the installed updates the plan's decisions rest on: the KBs of the inventory's installed list
   * (those believed), and those counted from the host's facts (host-state.ts, hostBaseline) that
   * install.cmd's look-up can find (plan.ts, inferenceCheckable; not a service pack counted from the
   * reported level, which the script's first-run build check proves), that the knowledge base or the
   * catalog knows for the host's family, by KB number. install.cmd checks that the host has each
   * before its first step. A plan.json staged by an older cabferry has none
   */
  assumedInstalled?: string[];
  /**
   * updates an installed-update list names that the plan does not take as installed, because CBS
   * says they are not on the host (HostInventory.overruled). A plan.json staged by an older cabferry has none
   */
  overruled?: OverruledInstalledClaim[];
  /** how current the catalog is for this host's family; null when the family is unknown */
  catalogCurrency: CatalogCurrency | null;
  /** the host state before the first step */
  initialState?: SimulatedState;
}

/** A payload as the planner sees it: its metadata plus where the catalog keeps it. */
export type PlannablePayload = Payload;
