import type { Architecture, Payload, PayloadKind } from '../package/types';

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
  /** facts the input did not state */
  unknown: string[];
  /** ESU licence status from the collect script's licence section; null when the inventory does not say (optional until every literal inventory in tests and benches names it) */
  esuLicence?: 'activated' | 'not-activated' | null;
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
  /** the host state after this step (always computed; the CLI prints it with --simulate) */
  stateAfter?: SimulatedState;
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
  complete: boolean;
  steps: PlanStep[];
  missing: { kb: string; reason: string; fileHint?: string }[];
  skipped: { kb: string; reason: 'installed' | 'superseded' | 'not-applicable'; detail?: string }[];
  assumptions: string[];
  /** the host state before the first step */
  initialState?: SimulatedState;
}

/** A payload as the planner sees it: its metadata plus where the catalog keeps it. */
export type PlannablePayload = Payload;
