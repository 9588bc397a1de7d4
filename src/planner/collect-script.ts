import { CBS_PACKAGES_KEY, COLLECT_COMPLETE, COLLECT_MAGIC_V2, COLLECT_RUN_PREFIX, SHA2_REGISTRY_KEY, WINDOWS_NT_KEY } from './inventory/collect';

/**
 * The .cmd an operator runs on the disconnected host (cmd.exe, reg, wmic only: a bare Server 2008
 * SP2 has no PowerShell worth relying on). It writes ONE file next to itself on the USB stick,
 * "<COMPUTERNAME>-inventory.txt" (or into the folder given as its first argument), in the format
 * src/planner/inventory/collect.ts documents and reads.
 *
 * Every fact comes from the registry or WMI, never from translated text, so the file reads the same
 * on a German, French or Japanese host: `reg query` prints value names and REG_ types untranslated,
 * `wmic … get … /value` prints "Property=value" lines, and wmic's own table (`get …` alone) a header
 * of property names.
 *
 * Why each command is written the way it is:
 *  - wmic writes UTF-16LE when redirected to a file. Its output goes to a temporary file that
 *    `type` copies into the inventory: cmd's TYPE turns a UTF-16 file with a BOM into the console
 *    code page, so the inventory has one encoding, and wmic's own exit code is kept (a pipe into
 *    `more` would report more's).
 *  - each wmic query is asked twice: with `/value`, into its section, and as wmic's own table (plain
 *    `get`, no /value, no /format), into the section of the same name and "-table". `/value` prints
 *    through a style sheet too (TechNet, "Creating and editing formats in WMIC": formats are used with
 *    GET /FORMAT:, LIST /FORMAT:, GET /ALL or GET /VALUE), and wmic looks for its style sheets in the
 *    folder of the regional format's language under wbem (wbem\de-DE): a host whose regional format is
 *    not its display language's has no such folder and prints "Invalid XSL format (or) file name."
 *    instead of the data (documented; not seen here, no such host). The table uses no style sheet. The
 *    reader takes the table where /value names no property. Asked always, not only after /value came
 *    back empty: telling that in cmd means reading wmic's UTF-16 output back with for /f, one more
 *    thing to get wrong on an unseen host, for a few seconds of run time saved.
 *  - each command's exit code is written as "EXIT=n" inside its section: an empty section then
 *    says "the command failed", not "there is nothing".
 *  - pending-reboot markers are reduced to yes/no lines so the reader does not parse reg output.
 *
 * An inventory on the stick must be this run's, never one an earlier run left there: on a
 * write-protected or full stick every `>`/`>>` fails, and cmd.exe sets no errorlevel for a failed
 * redirection, so the script would carry on and say "Done" over the old file. `||` does see a failed
 * redirection on Windows (Stack Overflow 41324747, "Why is ErrorLevel set only after || operator upon
 * a failed redirection?"; Microsoft documents `||` only as running when the command before it
 * fails), but Wine's cmd (8.0, which the tests run) runs the right side of `||` and
 * `&&` whatever the left side did, so nothing here rests on it. Instead the file proves itself: its
 * second line is "RUN=" and this run's identity (two %RANDOM% and the time), read back with for /f
 * (not findstr, whose /b /c: matches anything under Wine) right after it is written and again after
 * the completion line, which must then be the file's last. Exit codes (README, collect.cmd):
 *   0  the inventory was written and read back whole
 *   3  the inventory could not be written (its first two lines did not read back): write-protected, full, or no such folder
 *   4  writing stopped part-way (the completion line is not the last line read back): full, or the stick was pulled
 * On 3 and 4 the script deletes the file it could not vouch for when it can, and says on stderr
 * whether one is still there.
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
  // the /value section, then the same query as wmic's own table in "NAME-table" (see above)
  const wmicTwice = (name: string, query: string): string[] => [...section(name, wmic(`${query} /value`)), ...section(`${name}-table`, wmic(query))];
  // WQL wants the path's backslashes doubled: name='C:\\Windows\\system32\\ntoskrnl.exe'
  const fileVersion = (name: string, variable: string): string[] => wmicTwice(name, `datafile where "name='%${variable}%'" get Version`);
  const lines = [
    '@echo off',
    'rem cabferry collect script: writes one inventory file for `cabferry plan --host FILE`.',
    'rem Runs with cmd.exe on Windows Server 2008 SP2 / Vista SP2 / Windows 7 / Server 2008 R2; changes nothing.',
    'rem Usage: collect.cmd [OUTPUT-FOLDER]   (default: the folder this script is in, e.g. the USB stick)',
    'rem Exit codes: 0 the inventory was written and read back whole ("Done"); 3 it could not be written',
    'rem (write-protected or full media, or no such folder); 4 writing it stopped part-way (media full or',
    'rem pulled out). On 3 and 4 an inventory file still there is NOT this run\'s: do not plan from it.',
    // delayed expansion off whatever the host's registry default: for /f's lines keep their "!"
    'setlocal EnableExtensions DisableDelayedExpansion',
    'rem A 32-bit cmd on x64 Windows reads HKLM\\SOFTWARE redirected (Wow6432Node), where the servicing',
    'rem packages are not the host\'s: it runs this script again in the native cmd, through Sysnative.',
    'if not defined PROCESSOR_ARCHITEW6432 goto :native',
    'if not exist "%SystemRoot%\\Sysnative\\cmd.exe" goto :native',
    // The path and the output folder reach the relaunch line through !variables!: cmd expands those
    // after it has split the line at & | < > and recognised quotes, so an & in either stays text.
    // Written as ""%~f0" %*", the path's & was expanded first and fell between the doubled quotes:
    // this cmd split the line there ("a&b" ran "b\collect.cmd..."). The native cmd then gets
    // /c ""PATH" "FOLDER"": more than two quotes, so by cmd /? it strips only the first and the last
    // and parses "PATH" "FOLDER", each quoted. Only the folder (%1) is passed on: the script takes no
    // other argument, and "" stands for none (%~1 is empty). Not covered: a % in the path (the
    // native cmd expands %NAME% on its command line where NAME is defined), a registry default of
    // delayed expansion on with two ! in it.
    'set "CF_SELF=%~f0"',
    'set "CF_ARG1=%~1"',
    'setlocal EnableDelayedExpansion',
    '"%SystemRoot%\\Sysnative\\cmd.exe" /c ""!CF_SELF!" "!CF_ARG1!""',
    'exit /b !errorlevel!',
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
    // this run's identity: %TIME% may start with a space and holds colons, neither of which a RUN= value needs.
    // cmd seeds %RANDOM% from the clock's seconds when it starts, so two runs in one second draw the
    // same numbers (and Wine's %TIME% has no seconds): the identity is drawn again until it differs
    // from the one of an inventory already at that path, which, read back from a stick that cannot be
    // written, would otherwise pass for this run's.
    ':new_run',
    'set "CF_RUN=%TIME: =0%"',
    'set "CF_RUN=%RANDOM%-%RANDOM%-%CF_RUN::=%"',
    'call :read_back',
    'if not "%CF_READ%"=="other" goto :new_run',
    'echo Collecting the inventory of %COMPUTERNAME% into "%CF_OUT%" ...',
    `> "%CF_OUT%" echo ${COLLECT_MAGIC_V2}`,
    `${out} echo ${COLLECT_RUN_PREFIX}%CF_RUN%`,
    'call :read_back',
    'if not "%CF_READ%"=="started" goto :cannot_write',
    '',
    ...section('environment', [
      `${out} echo COMPUTERNAME=%COMPUTERNAME%`,
      `${out} echo PROCESSOR_ARCHITECTURE=%PROCESSOR_ARCHITECTURE%`,
      `${out} echo PROCESSOR_ARCHITEW6432=%PROCESSOR_ARCHITEW6432%`,
    ]),
    ...section('os', reg(`"${WINDOWS_NT_KEY}"`)),
    ...fileVersion('kernel', 'CF_KERNEL'),
    ...fileVersion('wua', 'CF_WUA'),
    ...wmicTwice('boot', 'os get LastBootUpTime,LocalDateTime'),
    ...section('servicing', ['dir /b "%SystemRoot%\\servicing\\Version" ' + out + ' 2>&1', exitLine]),
    ...section('cbs', reg(`"${CBS_PACKAGES_KEY}" /s /v CurrentState`)),
    ...wmicTwice('qfe', 'qfe get HotFixID,InstalledOn'),
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
    ...wmicTwice('licence', 'path SoftwareLicensingProduct where "PartialProductKey is not null" get ID,Name,LicenseStatus'),
    `${out} echo ${COLLECT_COMPLETE}`,
    'del "%CF_TMP%" "%CF_ERR%" >nul 2>&1',
    'call :read_back',
    'if not "%CF_READ%"=="complete" goto :cut_short',
    'echo Done: "%CF_OUT%"',
    'endlocal',
    'exit /b 0',
    '',
    ':cannot_write',
    'echo cabferry: cannot write "%CF_OUT%" - is the stick write-protected or full? 1>&2',
    'set "CF_FAILED=3"',
    'goto :discard',
    ':cut_short',
    'echo cabferry: writing "%CF_OUT%" stopped part-way - is the stick full, or was it pulled out? 1>&2',
    'set "CF_FAILED=4"',
    'goto :discard',
    ':discard',
    'del "%CF_TMP%" "%CF_ERR%" >nul 2>&1',
    // a folder of that name is not ours to empty: del on a folder deletes the files in it
    'call :out_kind',
    'if "%CF_KIND%"=="file" del /f "%CF_OUT%" >nul 2>&1',
    'if exist "%CF_OUT%" echo cabferry: "%CF_OUT%" is still there and is NOT this run\'s inventory: do not plan from it, delete it. 1>&2',
    'if not exist "%CF_OUT%" echo cabferry: no inventory was written. 1>&2',
    'endlocal & exit /b %CF_FAILED%',
    '',
    // CF_KIND: what is at the inventory's path, "none", "folder" or "file" (%%~a is empty when
    // there is nothing, and for a device; it starts with "d" for a folder)
    ':out_kind',
    'set "CF_KIND=none"',
    'if exist "%CF_OUT%" set "CF_KIND=file"',
    'set "CF_ATTR="',
    'for %%F in ("%CF_OUT%") do set "CF_ATTR=%%~aF"',
    'if defined CF_ATTR if /i "%CF_ATTR:~0,1%"=="d" set "CF_KIND=folder"',
    'exit /b 0',
    '',
    // CF_READ: "complete" when the file starts with the magic line and this run's RUN line and ends
    // with the completion line, "started" when only its start is this run's, "other" otherwise.
    // The lines are taken with delayed expansion off (a "!" in reg's output stays) and compared with
    // it on, so a quote in a line read cannot break the comparison's syntax.
    ':read_back',
    'set "CF_FIRST="',
    'set "CF_SECOND="',
    'set "CF_LAST="',
    'set "CF_READ=other"',
    // for /f on a folder fails, and Wine's cmd then runs the loop's body as a command of its own
    'call :out_kind',
    'if not "%CF_KIND%"=="file" exit /b 0',
    'for /f "usebackq delims=" %%L in ("%CF_OUT%") do (',
    '  if defined CF_FIRST if not defined CF_SECOND set "CF_SECOND=%%L"',
    '  if not defined CF_FIRST set "CF_FIRST=%%L"',
    '  set "CF_LAST=%%L"',
    ')',
    'setlocal EnableDelayedExpansion',
    'set "CF_READ=other"',
    `if "!CF_FIRST!"=="${COLLECT_MAGIC_V2}" if "!CF_SECOND!"=="${COLLECT_RUN_PREFIX}!CF_RUN!" set "CF_READ=started"`,
    `if "!CF_READ!"=="started" if "!CF_LAST!"=="${COLLECT_COMPLETE}" set "CF_READ=complete"`,
    'endlocal & set "CF_READ=%CF_READ%"',
    'exit /b 0',
  ];
  // cmd.exe wants CRLF; a .cmd with bare LF misparses labels and parenthesised blocks
  return lines.join('\r\n') + '\r\n';
}
