import { type Command, type Help, type Option } from 'commander';

/**
 * How every command's --help reads: required options say so, and each help ends with a few real
 * command lines. Configured once on the root program; commander copies it to every subcommand.
 */
export function configureHelp(program: Command): void {
  program.configureHelp({
    optionDescription(option: Option): string {
      const base = defaultOptionDescription(this as unknown as Help, option);
      return option.mandatory ? `${base} (required)` : base;
    },
  });
}

/** Commander's own description (with its "(default: …)" parts), before ours is added. */
function defaultOptionDescription(help: Help, option: Option): string {
  const Proto = Object.getPrototypeOf(help) as Help;
  return Proto.optionDescription.call(help, option);
}

/**
 * Two or three real command lines per command, by command path. Kept in one table (not in each
 * command's module) so that a new command without examples fails one test in one place.
 */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  'cabferry': [
    'cabferry trust add --microsoft-roots',
    'cabferry import ~/downloads/updates/',
    'cabferry stage --host /media/usb/*-inventory.txt --to /media/usb',
  ],
  'cabferry list': ['cabferry list windows6.0-kb4493730-x64.cab', 'cabferry list --json update.msu', 'cabferry list --search setup.exe'],
  'cabferry extract': [
    'cabferry extract Windows6.0-KB4493730-x64.msu -o out/',
    'cabferry extract update.msu -o out/ WSUSSCAN.cab',
    'cabferry extract --salvage damaged.cab -o rescued/',
  ],
  'cabferry test': ['cabferry test Windows6.0-KB4493730-x64.msu', 'cabferry test --salvage --json damaged.cab', 'cabferry test --search setup.exe'],
  'cabferry verify': [
    'cabferry verify --trust catalog/trust-anchors/microsoft-roots.pem Windows6.0-KB4493730-x64.msu',
    'cabferry verify --deep --require-sha2 update.msu',
    'cabferry verify --json --at 2019-08-15 old-update.cab',
  ],
  'cabferry inspect': ['cabferry inspect Windows6.0-KB4493730-x64.msu', 'cabferry inspect --json --trust catalog/trust-anchors/microsoft-roots.pem update.msu'],
  'cabferry import': [
    'cabferry import ~/downloads/updates/ bundle.zip',
    'cabferry import --quarantine --json suspicious.msu',
    'cabferry import --catalog /srv/high /media/usb/transfer-2026-12.zip',
  ],
  'cabferry export': [
    'cabferry export --to /media/usb/transfer-2026-12.zip --sign-key ops.key --sign-cert ops.pem',
    'cabferry export --since-bundle /archive/transfer-2026-11.zip --to /media/usb/transfer-2026-12.zip --sign-key ops.key --sign-cert ops.pem',
    'cabferry export --since 2026-11-01 --to /media/usb/transfer/ --sign-key ops.key --sign-cert ops.pem',
  ],
  'cabferry catalog': ['cabferry catalog list --kb KB4493730', 'cabferry catalog check --repair'],
  'cabferry catalog init': ['cabferry catalog init', 'cabferry catalog init --catalog /srv/cabferry'],
  'cabferry catalog list': ['cabferry catalog list', 'cabferry catalog list --product "Windows Server 2008" --arch amd64', 'cabferry catalog list --json --imported'],
  'cabferry catalog show': ['cabferry catalog show KB4493730', 'cabferry catalog show 3f1c0a9e5d7b (the SHA-256 or its first 10+ hex digits, as catalog list prints)', 'cabferry catalog show --json KB4493730'],
  'cabferry catalog check': ['cabferry catalog check', 'cabferry catalog check --deep', 'cabferry catalog check --repair --json'],
  'cabferry catalog export-blob': ['cabferry catalog export-blob 3f1c…(a SHA-256) -o KB4493730.msu', 'cabferry catalog export-blob --force 3f1c…(a SHA-256) -o /tmp/payload.msu'],
  'cabferry trust': ['cabferry trust add --microsoft-roots', 'cabferry trust list'],
  'cabferry trust add': ['cabferry trust add --microsoft-roots', 'cabferry trust add --for signatures ops-root.pem', 'cabferry trust add --catalog /srv/cabferry certs/'],
  'cabferry trust list': ['cabferry trust list', 'cabferry trust list --json'],
  'cabferry trust remove': ['cabferry trust remove 3f1c2a9b', 'cabferry trust remove --for signatures 3f1c2a9b', 'cabferry trust remove --json 3f1c2a9b'],
  'cabferry plan': [
    'cabferry plan --host /media/usb/SRV01-inventory.txt',
    'cabferry plan --host /media/usb/*-inventory.txt --simulate',
    'cabferry plan --host srv01.json --target KB4493730 --json',
  ],
  'cabferry collect-script': ['cabferry collect-script -o /media/usb/collect.cmd', 'cabferry collect-script --force -o /media/usb/collect.cmd'],
  'cabferry stage': [
    'cabferry stage --host /media/usb/*-inventory.txt --to /media/usb',
    'cabferry stage --host srv01.txt --to /media/usb --sign-key ops.key --sign-cert ops.pem --sign-pass-env OPS_KEY_PASS',
  ],
  'cabferry verify-media': ['cabferry verify-media /media/usb', 'cabferry verify-media --trust ops-root.pem /media/usb', 'cabferry verify-media --allow-unsigned /media/usb'],
  'cabferry report': ['cabferry report /media/usb', 'cabferry report --trust ops-root.pem --json /media/usb'],
};

/**
 * End every command's --help (the program's too) with its examples from EXAMPLES. Commands
 * missing from the table get none; test/cli/conventions checks that none is missing.
 */
export function addExamples(program: Command): void {
  const visit = (command: Command, path: string): void => {
    const examples = EXAMPLES[path];
    if (examples !== undefined) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
    for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
  };
  visit(program, program.name());
}
