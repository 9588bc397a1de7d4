/**
 * What an installer's exit code means on the far side, and what install.cmd does about it.
 *
 * One table for both ends: renderInstallScript generates install.cmd's `:interpret` routine from
 * it, and `cabferry report` reads the codes in the result logs back through it, so the script and
 * the report can never disagree about a code.
 *
 * Sources: the WUA result codes (Microsoft "WUA Success and Error Codes", WU_S_* / WU_E_*),
 * Win32 system error codes (3010 ERROR_SUCCESS_REBOOT_REQUIRED, 1641 ERROR_SUCCESS_REBOOT_INITIATED,
 * 1058/0x80070422 service disabled), CBS_E_NOT_APPLICABLE (pkgmgr), TRUST_E_BAD_DIGEST.
 * cmd.exe reports exit codes as signed 32-bit numbers, so HRESULTs appear negative.
 */

export type Outcome =
  /** installed; continue with the next step */
  | 'ok'
  /** installed, the host must restart before the next step */
  | 'reboot'
  /** nothing to do; counts as done */
  | 'skip'
  /** stop the script */
  | 'stop';

export interface ExitCodeMeaning {
  /** signed 32-bit value, as cmd.exe's %errorlevel% shows it */
  code: number;
  /** a token without spaces, written into the result log */
  meaning: string;
  outcome: Outcome;
  /** the update should be on the host after this code: install.cmd asks the host before recording it */
  presentAfter: boolean;
  /** what the operator reads */
  explanation: string;
}

const SHA2_EXPLANATION =
  'SHA-2 code signing support is not active yet: install KB4474419 and reboot';

export const INSTALLER_EXIT_CODES: readonly ExitCodeMeaning[] = [
  { code: 0, meaning: 'installed', outcome: 'ok', presentAfter: true, explanation: 'installed' },
  { code: 3010, meaning: 'reboot-required', outcome: 'reboot', presentAfter: true, explanation: 'installed; a restart is required (3010)' },
  { code: 1641, meaning: 'reboot-initiated', outcome: 'reboot', presentAfter: true, explanation: 'installed; the installer started a restart (1641)' },
  { code: 0x240005, meaning: 'reboot-required', outcome: 'reboot', presentAfter: true, explanation: 'installed; a restart is required (WU_S_REBOOT_REQUIRED)' },
  { code: 0x240006, meaning: 'already-installed', outcome: 'skip', presentAfter: true, explanation: 'already installed (WU_S_ALREADY_INSTALLED)' },
  { code: toSigned(0x80240017), meaning: 'not-applicable', outcome: 'skip', presentAfter: false, explanation: 'not applicable to this host (WU_E_NOT_APPLICABLE)' },
  { code: toSigned(0x800f081e), meaning: 'not-applicable', outcome: 'skip', presentAfter: false, explanation: 'not applicable to this host (CBS_E_NOT_APPLICABLE)' },
  { code: toSigned(0x80096010), meaning: 'sha2-support-missing', outcome: 'stop', presentAfter: false, explanation: SHA2_EXPLANATION },
  { code: toSigned(0x80070422), meaning: 'windows-update-service-disabled', outcome: 'stop', presentAfter: false, explanation: 'the Windows Update service (wuauserv) is disabled; wusa.exe needs it set to Manual' },
  { code: toSigned(0x80240016), meaning: 'install-not-allowed', outcome: 'stop', presentAfter: false, explanation: 'another installation is running or a restart is pending (WU_E_INSTALL_NOT_ALLOWED)' },
  { code: toSigned(0x80070bc9), meaning: 'reboot-pending-first', outcome: 'stop', presentAfter: false, explanation: 'a previous operation needs a restart first (ERROR_FAIL_REBOOT_REQUIRED)' },
];

/** Codes the script itself writes into the log for steps that never reached an installer. */
export const SCRIPT_MEANINGS: Record<string, string> = {
  'hash-mismatch': 'the payload on the media does not have the SHA-256 the plan names; not installed',
  // the hasher printed no digest at all (sha256.vbs cannot load a 900 MB service pack; certutil cannot
  // read a file another program holds open): nothing was measured, so nothing is said of the medium
  'hash-not-computed': 'the SHA-256 of the payload could not be computed on the host (the hasher printed no digest); not installed. This says nothing about the media: run install.cmd again, or check the media with cabferry verify-media and install with /skiphashcheck',
  'payload-missing': 'the payload file is not on the media',
  // measured by install.cmd before any hasher runs (a 0-byte or cut-short copy): the medium is wrong
  'payload-wrong-size': 'the payload file on the media does not have the size in bytes the plan names (a copy that is empty or cut short, or another file); not installed. Re-check the media with cabferry verify-media',
  'hash-not-checked': 'installed without a SHA-256 check (/skiphashcheck)',
  'loop-guard': 'the same step was reached three times; stopped to avoid a reboot loop',
  'reboot-done': 'the host restarted as planned',
  'reboot-requested': 'stopped for a restart',
  'reboot-stated': 'the operator stated that the host restarted (install.cmd /restarted), which install.cmd could not prove (Windows recorded no clean shutdown since the request - a crash or power cut records none - or its shutdown time could not be read): not counted as a restart',
  'confirmed-on-host': 'installed; found on the host after the restart it asked for',
  'not-on-host': 'the state file called this step done, but the host did not have the update; installed again',
  'esu-not-activated': 'an Extended Security Update, and the host has no activated ESU licence; not installed',
  // wmic printed no licence status (it failed, or printed nothing): the planner's reader of the same
  // query calls that unknown, and so does install.cmd
  'esu-status-unknown': 'an Extended Security Update, and the ESU licence status of the host could not be read (wmic printed none); not installed. This does not say the licence is missing: look it up with wmic path SoftwareLicensingProduct by hand, or repair WMI',
  'needs-console': 'an executable with no known silent switches, run with /autoreboot: not run, since it may wait for an answer nobody gives; run install.cmd at the console without /autoreboot',
};

/**
 * The lines install.cmd writes with its own meanings (`call :log WORD` in install.cmd.tmpl), by the
 * action on the line, with the exit code written beside each: null for `-`, as no installer ran
 * (S_CODE is `-` until one does). The restart a step asked for is logged as action restart, code 0.
 * An installer's meaning is written only on an install line, with the code INSTALLER_EXIT_CODES
 * gives it. Any other line is not one install.cmd writes (scriptWritesLine).
 */
export const SCRIPT_LINES: Record<string, Record<string, number | null>> = {
  install: { 'payload-missing': null, 'payload-wrong-size': null, 'hash-mismatch': null, 'hash-not-computed': null, 'needs-console': null, 'esu-not-activated': null, 'esu-status-unknown': null, 'loop-guard': null, 'not-on-host': null, 'confirmed-on-host': 0 },
  reboot: { 'reboot-requested': 0, 'reboot-done': 0, 'reboot-stated': 0, 'loop-guard': null },
  restart: { 'reboot-done': 0, 'reboot-stated': 0, 'loop-guard': 0 },
};

/**
 * Whether install.cmd writes a RESULT line with this action, meaning and exit code: one of its own
 * (SCRIPT_LINES), or an installer's code with the meaning the exit code table gives it. Own keys
 * only: the words come back from the host on the medium.
 */
export function scriptWritesLine(action: string, meaning: string, code: number | null): boolean {
  const own = Object.hasOwn(SCRIPT_LINES, action) ? SCRIPT_LINES[action] : undefined;
  if (own !== undefined && Object.hasOwn(own, meaning)) return own[meaning] === code;
  return action === 'install' && code !== null && interpretExitCode(code).meaning === meaning;
}

/** What the reason on an END line of install.cmd means (`call :end STATUS REASON` in the template). */
export const END_REASONS: Record<string, string> = {
  'not-elevated': 'install.cmd was not run as Administrator',
  'wrong-host': 'install.cmd was run on another computer than the one it was planned for',
  'wrong-architecture': 'the host is of another architecture than its inventory said',
  'wrong-windows-version': 'the host runs another Windows version than its inventory said',
  'wrong-build': 'the host is at another build than the plan starts from: collect a new inventory and plan again',
  'unknown-build': 'install.cmd could not read the Windows build of the host',
  'inventory-stale': 'the host does not list an update the plan took as installed: collect a new inventory and plan again',
  'no-hasher': 'the host could not compute SHA-256, so no payload was installed unchecked',
  // an update the plan took as installed was only install-pending when the first run checked the
  // host (a restart commits such an install or rolls it back); the run looked it up again before it
  // would have ended complete
  'assumed-pending': 'every step is done, but an update the plan took as installed is still waiting for a restart (install pending): restart the host and run install.cmd again',
  'assumed-rolled-back': 'an update the plan took as installed was waiting for a restart when install.cmd first checked, and the host no longer has it (the restart rolled it back, or it was removed): the host is not complete; collect a new inventory and plan again',
  'restart-unproven': 'install.cmd could not prove that the host restarted since a step asked for it (Windows recorded no clean shutdown since the request, or its shutdown time could not be read then or now): restart it and run install.cmd again, or, if it did restart, run install.cmd /restarted',
  'assumed-still-pending': 'an update the plan took as installed was still waiting for a restart after two restarts: stopped to avoid a reboot loop; collect a new inventory and plan again',
  // an update a step installed was still install pending when the run had got through every step (a
  // restart commits such an install or rolls it back)
  'step-pending': 'every step ran, but an update a step installed is still waiting for a restart (install pending): restart the host and run install.cmd again',
  // a restart only the operator stated (install.cmd /restarted) after a reboot step, or after an install
  // whose installer asked for it with the update already listed: nothing on the host shows it happened
  'restart-reasked': 'every step ran, but a restart after a step was only stated by the operator (install.cmd /restarted) and nothing on the host shows it happened: install.cmd asked for one more restart, which it can prove; restart the host and run install.cmd again',
  // a restart a step needs that nothing on the host shows since: the record asking for it could not be
  // written (a full medium) or was never reached (a run cut off), or an update before a reboot step was
  // installed again after that step's restart
  'restart-owed': 'every step ran, but nothing shows that the host restarted where a step needs it (the record asking for that restart may not have been written): install.cmd asked for the restart now; restart the host and run install.cmd again',
  // every step ran and nothing in the state file owes a restart, but CBS keeps its RebootPending key:
  // the host's own word that servicing waits for one
  'host-restart-pending': 'every step ran, but Windows servicing still waits for a restart (CBS RebootPending): install.cmd asked for it; restart the host and run install.cmd again',
  // ... or a reboot step's restart the operator stated, with later steps installed on that word before
  // any restart the host shows: no restart since can be the one the plan put between them
  'restart-stated': 'every step ran, but a restart after a step was only stated by the operator (install.cmd /restarted): the one install.cmd asked for again was not shown either, or the steps after a restart step were installed on that word before any restart the host shows; the steps it was for are unconfirmed; check the host yourself',
  // a reboot step reached after an install of the same run the host did not list: the installer may still
  // be at work (a service pack's returns at once), so install.cmd restarted nothing and stopped
  'restart-held': 'an installer of the last run reported success and the host did not list its update when the run reached a reboot step, or a later installer asked for a restart: the host was not restarted, since that installer may still be running and a restart could cut it off; let it finish, then run install.cmd again',
  'step-still-pending': 'an update a step installed was still waiting for a restart after two restarts: stopped to avoid a reboot loop; the host is not complete (see the CBS log)',
};

/**
 * What a result log's meaning or an END line's reason says, when it is one the script writes. Own
 * keys only: the log comes back from the host on the medium and may say "constructor".
 */
export function scriptMeaningText(meaning: string): string | undefined {
  return Object.hasOwn(SCRIPT_MEANINGS, meaning) ? SCRIPT_MEANINGS[meaning] : undefined;
}

export function endReasonText(reason: string): string | undefined {
  return Object.hasOwn(END_REASONS, reason) ? END_REASONS[reason] : undefined;
}

export function toSigned(u32: number): number {
  return u32 > 0x7fffffff ? u32 - 0x1_0000_0000 : u32;
}

export function hex32(code: number): string {
  return '0x' + (code < 0 ? code + 0x1_0000_0000 : code).toString(16).toUpperCase().padStart(8, '0');
}

/** Meaning of an installer exit code; anything not in the table stops the script. */
export function interpretExitCode(code: number): ExitCodeMeaning {
  const known = INSTALLER_EXIT_CODES.find((c) => c.code === code);
  if (known) return known;
  return { code, meaning: 'failed', outcome: 'stop', presentAfter: false, explanation: `the installer failed with ${code} (${hex32(code)})` };
}
