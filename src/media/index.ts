/**
 * Across the gap: staged media and what comes back from them.
 *   stageMedia(options) / writeMedia(input)   plans → payloads, install.cmd per host, manifest (+ signature)
 *   renderInstallScript(plan, host, options)  the .cmd a bare Windows Server 2008 SP2 runs
 *   verifyMedia(dir, { trust })               re-hash against the manifest, check the signature
 *   reportMedia(dir)                          result logs from the hosts vs. the staged plans
 */
export { stageMedia, writeMedia, type StageOptions, type StageResult, type WriteMediaInput, type StagedHost } from './stage';
export { consoleStepsText, renderInstallScript, installerFor, type InstallScriptOptions, INSTALL_SCRIPT_EXIT } from './install-script';
export { verifyMedia, type HostPlanOnMedium, type VerifyMediaOptions, type VerifyMediaReport } from './verify';
export { completeQualifier, fleetVerdictText, hostReasonText, reportMedia, type MediaReport, type HostReport, type StepReport } from './report';
export { interpretExitCode, INSTALLER_EXIT_CODES, type ExitCodeMeaning } from './exit-codes';
export { parseResultLog, type ResultLog } from './result-log';
export { MEDIA } from './layout';
