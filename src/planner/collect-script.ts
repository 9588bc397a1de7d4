import { COLLECT_MAGIC, SHA2_REGISTRY_KEY } from './inventory/collect';

/**
 * The .cmd an operator runs on the disconnected host (cmd.exe only: a bare Server 2008 SP2 or
 * Windows 7 has no PowerShell worth relying on). It writes ONE file next to itself on the USB
 * stick, "<COMPUTERNAME>-inventory.txt" (or into the folder given as its first argument), with
 * one marked section per command; src/planner/inventory/collect.ts reads it back.
 *
 * Why each command is written the way it is:
 *  - `wmic … | more`: wmic writes UTF-16LE when redirected; piping through `more` converts it to
 *    the OEM code page so the whole file has one encoding. The table form (not /format:csv)
 *    avoids the "Invalid XSL format" failure of wmic's csv.xsl on non-en-US installations.
 *  - `reg query … 2>&1`: a missing key is information too; "ERROR: …" lines land in the file.
 *  - pending-reboot markers are reduced to yes/no lines so the reader does not parse reg output.
 */
export function collectScript(): string {
  const sha2 = SHA2_REGISTRY_KEY;
  const cbsPending = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending';
  const wuRequired = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired';
  const sessionManager = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager';
  const lines = [
    '@echo off',
    'rem cabferry collect script: writes one inventory file for `cabferry plan --host FILE`.',
    'rem Runs with cmd.exe on Windows Server 2008 SP2 / Vista SP2 / Windows 7 / Server 2008 R2; changes nothing.',
    'rem Usage: collect.cmd [OUTPUT-FOLDER]   (default: the folder this script is in, e.g. the USB stick)',
    'setlocal EnableExtensions',
    'set "CF_DIR=%~dp0"',
    'if not "%~1"=="" set "CF_DIR=%~1\\"',
    'set "CF_OUT=%CF_DIR%%COMPUTERNAME%-inventory.txt"',
    'echo Collecting the inventory of %COMPUTERNAME% into "%CF_OUT%" ...',
    `> "%CF_OUT%" echo ${COLLECT_MAGIC}`,
    'if errorlevel 1 (',
    '  echo cabferry: cannot write "%CF_OUT%" 1>&2',
    '  exit /b 3',
    ')',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin environment]]',
    '>> "%CF_OUT%" echo COMPUTERNAME=%COMPUTERNAME%',
    '>> "%CF_OUT%" echo PROCESSOR_ARCHITECTURE=%PROCESSOR_ARCHITECTURE%',
    '>> "%CF_OUT%" echo PROCESSOR_ARCHITEW6432=%PROCESSOR_ARCHITEW6432%',
    '>> "%CF_OUT%" echo COLLECTED=%DATE% %TIME%',
    '>> "%CF_OUT%" echo [[cabferry:end environment]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin systeminfo]]',
    'systeminfo >> "%CF_OUT%" 2>&1',
    '>> "%CF_OUT%" echo [[cabferry:end systeminfo]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin qfe]]',
    'wmic qfe get CSName,Description,HotFixID,InstalledOn 2>&1 | more >> "%CF_OUT%"',
    '>> "%CF_OUT%" echo [[cabferry:end qfe]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin sha2]]',
    `reg query "${sha2}" >> "%CF_OUT%" 2>&1`,
    '>> "%CF_OUT%" echo [[cabferry:end sha2]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin servicing]]',
    'dir /b "%SystemRoot%\\servicing\\Version" >> "%CF_OUT%" 2>&1',
    '>> "%CF_OUT%" echo [[cabferry:end servicing]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin buildlab]]',
    'reg query "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion" /v BuildLabEx >> "%CF_OUT%" 2>&1',
    '>> "%CF_OUT%" echo [[cabferry:end buildlab]]',
    '',
    '>> "%CF_OUT%" echo [[cabferry:begin reboot]]',
    `reg query "${cbsPending}" >nul 2>&1`,
    'if errorlevel 1 (>> "%CF_OUT%" echo CbsRebootPending=no) else (>> "%CF_OUT%" echo CbsRebootPending=yes)',
    `reg query "${wuRequired}" >nul 2>&1`,
    'if errorlevel 1 (>> "%CF_OUT%" echo WuRebootRequired=no) else (>> "%CF_OUT%" echo WuRebootRequired=yes)',
    `reg query "${sessionManager}" /v PendingFileRenameOperations >nul 2>&1`,
    'if errorlevel 1 (>> "%CF_OUT%" echo PendingFileRenameOperations=no) else (>> "%CF_OUT%" echo PendingFileRenameOperations=yes)',
    'if exist "%SystemRoot%\\winsxs\\pending.xml" (>> "%CF_OUT%" echo CbsPendingXml=yes) else (>> "%CF_OUT%" echo CbsPendingXml=no)',
    '>> "%CF_OUT%" echo [[cabferry:end reboot]]',
    '',
    'echo Done: "%CF_OUT%"',
    'endlocal',
    'exit /b 0',
  ];
  // cmd.exe wants CRLF; a .cmd with bare LF misparses labels and parenthesised blocks
  return lines.join('\r\n') + '\r\n';
}
