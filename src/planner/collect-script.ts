import { CBS_PACKAGES_KEY, COLLECT_MAGIC_V2, SHA2_REGISTRY_KEY, WINDOWS_NT_KEY } from './inventory/collect';

/**
 * The .cmd an operator runs on the disconnected host (cmd.exe, reg, wmic only: a bare Server 2008
 * SP2 has no PowerShell worth relying on). It writes ONE file next to itself on the USB stick,
 * "<COMPUTERNAME>-inventory.txt" (or into the folder given as its first argument), in the format
 * src/planner/inventory/collect.ts documents and reads.
 *
 * Every fact comes from the registry or WMI, never from translated text, so the file reads the same
 * on a German, French or Japanese host: `reg query` prints value names and REG_ types untranslated,
 * `wmic … get … /value` prints "Property=value" lines.
 *
 * Why each command is written the way it is:
 *  - wmic writes UTF-16LE when redirected to a file. Its output goes to a temporary file that
 *    `type` copies into the inventory: cmd's TYPE turns a UTF-16 file with a BOM into the console
 *    code page, so the inventory has one encoding, and wmic's own exit code is kept (a pipe into
 *    `more` would report more's). `/value` needs no XSL file (`/format:csv` fails with "Invalid XSL
 *    format" on hosts whose locale folder under wbem lacks csv.xsl).
 *  - each command's exit code is written as "EXIT=n" inside its section: an empty section then
 *    says "the command failed", not "there is nothing".
 *  - pending-reboot markers are reduced to yes/no lines so the reader does not parse reg output.
 */
export function collectScript(): string {
  const cbsPending = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending';
  const wuRequired = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired';
  const sessionManager = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager';
  const out = '>> "%CF_OUT%"';
  const section = (name: string, body: string[]): string[] => [`${out} echo [[cabferry:begin ${name}]]`, ...body, `${out} echo [[cabferry:end ${name}]]`, ''];
  // %errorlevel% is expanded when its line is read, i.e. after the command on the line before
  const exitLine = `${out} echo EXIT=%errorlevel%`;
  const reg = (args: string): string[] => [`reg query ${args} ${out} 2>&1`, exitLine];
  const wmic = (args: string): string[] => [
    `wmic ${args} > "%CF_TMP%" 2> "%CF_ERR%"`,
    exitLine,
    `type "%CF_TMP%" ${out} 2>nul`,
    `type "%CF_ERR%" ${out} 2>nul`,
    // a typed file need not end in a line break: the section's end marker must start a line
    `${out} echo.`,
  ];
  // WQL wants the path's backslashes doubled: name='C:\\Windows\\system32\\ntoskrnl.exe'
  const fileVersion = (variable: string): string[] => wmic(`datafile where "name='%${variable}%'" get Version /value`);
  const lines = [
    '@echo off',
    'rem cabferry collect script: writes one inventory file for `cabferry plan --host FILE`.',
    'rem Runs with cmd.exe on Windows Server 2008 SP2 / Vista SP2 / Windows 7 / Server 2008 R2; changes nothing.',
    'rem Usage: collect.cmd [OUTPUT-FOLDER]   (default: the folder this script is in, e.g. the USB stick)',
    'setlocal EnableExtensions',
    'rem A 32-bit cmd on x64 Windows reads HKLM\\SOFTWARE redirected (Wow6432Node), where the servicing',
    'rem packages are not the host\'s: it runs this script again in the native cmd, through Sysnative.',
    'if not defined PROCESSOR_ARCHITEW6432 goto :native',
    'if not exist "%SystemRoot%\\Sysnative\\cmd.exe" goto :native',
    '"%SystemRoot%\\Sysnative\\cmd.exe" /c ""%~f0" %*"',
    'exit /b %errorlevel%',
    ':native',
    'set "CF_DIR=%~dp0"',
    'if not "%~1"=="" set "CF_DIR=%~1\\"',
    'set "CF_OUT=%CF_DIR%%COMPUTERNAME%-inventory.txt"',
    'set "CF_TMP=%TEMP%\\cabferry-collect-%RANDOM%.tmp"',
    'set "CF_ERR=%CF_TMP%.err"',
    'set "CF_KERNEL=%SystemRoot%\\system32\\ntoskrnl.exe"',
    'set "CF_KERNEL=%CF_KERNEL:\\=\\\\%"',
    'set "CF_WUA=%SystemRoot%\\system32\\wuaueng.dll"',
    'set "CF_WUA=%CF_WUA:\\=\\\\%"',
    'echo Collecting the inventory of %COMPUTERNAME% into "%CF_OUT%" ...',
    `> "%CF_OUT%" echo ${COLLECT_MAGIC_V2}`,
    'if errorlevel 1 (',
    '  echo cabferry: cannot write "%CF_OUT%" 1>&2',
    '  exit /b 3',
    ')',
    '',
    ...section('environment', [
      `${out} echo COMPUTERNAME=%COMPUTERNAME%`,
      `${out} echo PROCESSOR_ARCHITECTURE=%PROCESSOR_ARCHITECTURE%`,
      `${out} echo PROCESSOR_ARCHITEW6432=%PROCESSOR_ARCHITEW6432%`,
    ]),
    ...section('os', reg(`"${WINDOWS_NT_KEY}"`)),
    ...section('kernel', fileVersion('CF_KERNEL')),
    ...section('wua', fileVersion('CF_WUA')),
    ...section('boot', wmic('os get LastBootUpTime,LocalDateTime /value')),
    ...section('servicing', ['dir /b "%SystemRoot%\\servicing\\Version" ' + out + ' 2>&1', exitLine]),
    ...section('cbs', reg(`"${CBS_PACKAGES_KEY}" /s /v CurrentState`)),
    ...section('qfe', wmic('qfe get HotFixID,InstalledOn /value')),
    ...section('sha2', reg(`"${SHA2_REGISTRY_KEY}"`)),
    ...section('reboot', [
      `reg query "${cbsPending}" >nul 2>&1`,
      `if errorlevel 1 (${out} echo CbsRebootPending=no) else (${out} echo CbsRebootPending=yes)`,
      `reg query "${wuRequired}" >nul 2>&1`,
      `if errorlevel 1 (${out} echo WuRebootRequired=no) else (${out} echo WuRebootRequired=yes)`,
      `reg query "${sessionManager}" /v PendingFileRenameOperations >nul 2>&1`,
      `if errorlevel 1 (${out} echo PendingFileRenameOperations=no) else (${out} echo PendingFileRenameOperations=yes)`,
      `if exist "%SystemRoot%\\winsxs\\pending.xml" (${out} echo CbsPendingXml=yes) else (${out} echo CbsPendingXml=no)`,
    ]),
    // every product with a key installed, by name: no ESU activation ID is written into the script
    ...section('licence', wmic('path SoftwareLicensingProduct where "PartialProductKey is not null" get ID,Name,LicenseStatus /value')),
    `${out} echo [[cabferry:complete]]`,
    'del "%CF_TMP%" "%CF_ERR%" >nul 2>&1',
    'echo Done: "%CF_OUT%"',
    'endlocal',
    'exit /b 0',
  ];
  // cmd.exe wants CRLF; a .cmd with bare LF misparses labels and parenthesised blocks
  return lines.join('\r\n') + '\r\n';
}
