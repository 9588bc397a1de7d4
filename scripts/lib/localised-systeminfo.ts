/**
 * systeminfo as a German, French or Japanese Server 2008 SP2 writes it, for fixtures/hosts.
 *
 * German and French field labels and value wording are those of real Windows 7 SP1 outputs
 * (bitsadmin/wesng validation/7_sp1_x64_ultimaten_de_systeminfo.txt and
 * 7_sp1_x64_enterprise_fr_systeminfo_cmd.txt); Windows 7 and Server 2008 print the same 32 fields
 * in the same order. The Japanese labels and wording were NOT confirmed from any output we could
 * read: they are our best rendering, and the reader does not depend on them (it reads an unknown
 * label set by systeminfo's field order).
 */

export type Language = 'de' | 'fr' | 'ja';

export interface LocalisedHost {
  name: string;
  /** as the OS writes it in that language, e.g. "Microsoft® Windows Server® 2008 Enterprise " */
  osName: string;
  /** major.minor.build, e.g. "6.0.6003" */
  version: string;
  servicePack: number;
  systemType: string;
  hotfixes: string[];
}

export const LABELS: Record<Language, string[]> = {
  de: [
    'Hostname', 'Betriebssystemname', 'Betriebssystemversion', 'Betriebssystemhersteller', 'Betriebssystemkonfiguration', 'Betriebssystem-Buildtyp',
    'Registrierter Benutzer', 'Registrierte Organisation', 'Produkt-ID', 'Ursprüngliches Installationsdatum', 'Systemstartzeit', 'Systemhersteller',
    'Systemmodell', 'Systemtyp', 'Prozessor(en)', 'BIOS-Version', 'Windows-Verzeichnis', 'System-Verzeichnis', 'Startgerät', 'Systemgebietsschema',
    'Eingabegebietsschema', 'Zeitzone', 'Gesamter physikalischer Speicher', 'Verfügbarer physikalischer Speicher',
    'Virtueller Arbeitsspeicher: Maximale Größe', 'Virtueller Arbeitsspeicher: Verfügbar', 'Virtueller Arbeitsspeicher: Zurzeit verwendet',
    'Auslagerungsdateipfad(e)', 'Domäne', 'Anmeldeserver', 'Hotfix(es)', 'Netzwerkkarte(n)',
  ],
  fr: [
    "Nom de l'hôte", "Nom du système d'exploitation", 'Version du système', "Fabricant du système d'exploitation", "Configuration du système d'exploitation",
    "Type de version du système d'exploitation", 'Propriétaire enregistré', 'Organisation enregistrée', 'Identificateur de produit', "Date d'installation originale",
    'Heure de démarrage du système', 'Fabricant du système', 'Modèle du système', 'Type du système', 'Processeur(s)', 'Version du BIOS', 'Répertoire Windows',
    'Répertoire système', "Périphérique d'amorçage", 'Option régionale du système', "Paramètres régionaux d'entrée", 'Fuseau horaire', 'Mémoire physique totale',
    'Mémoire physique disponible', 'Mémoire virtuelle\u00a0: taille maximale', 'Mémoire virtuelle\u00a0: disponible', "Mémoire virtuelle\u00a0: en cours d'utilisation",
    "Emplacements des fichiers d'échange", 'Domaine', "Serveur d'ouverture de session", 'Correctif(s)', 'Carte(s) réseau',
  ],
  ja: [
    'ホスト名', 'OS 名', 'OS バージョン', 'OS 製造元', 'OS 構成', 'OS ビルドの種類', '登録されている所有者', '登録されている組織', 'プロダクト ID',
    '最初のインストール日付', 'システム起動時間', 'システム製造元', 'システム モデル', 'システムの種類', 'プロセッサ', 'BIOS バージョン', 'Windows ディレクトリ',
    'システム ディレクトリ', '起動デバイス', 'システム ロケール', '入力ロケール', 'タイム ゾーン', '物理メモリの合計', '利用できる物理メモリ',
    '仮想メモリ: 最大サイズ', '仮想メモリ: 利用可能', '仮想メモリ: 使用中', 'ページ ファイルの場所', 'ドメイン', 'ログオン サーバー', 'ホットフィックス', 'ネットワーク カード',
  ],
};

interface Wording {
  build: string;
  hotfixCount: (n: number) => string;
  processors: string;
  nics: string;
  installDate: string;
  bootTime: string;
  memory: (mb: string) => string;
  locale: string;
  timeZone: string;
  configuration: string;
}

const WORDING: Record<Language, Wording> = {
  de: {
    build: 'Build', hotfixCount: (n) => `${n} Hotfix(e) installiert.`, processors: '1 Prozessor(en) installiert.', nics: '1 Netzwerkadapter installiert.',
    installDate: '14.03.2012, 10:12:44', bootTime: '02.11.2026, 06:01:12', memory: (mb) => `${mb.replace(',', '.')} MB`, locale: 'de;Deutsch (Deutschland)',
    timeZone: '(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien', configuration: 'Mitgliedsserver',
  },
  fr: {
    build: 'version', hotfixCount: (n) => `${n} Corrections installées.`, processors: '1 processeur(s) installé(s).', nics: '1 carte(s) réseau installée(s).',
    installDate: '14/03/2012, 10:12:44', bootTime: '02/11/2026, 06:01:12', memory: (mb) => `${mb.replace(',', '\u00a0')} Mo`, locale: 'fr;Français (France)',
    timeZone: '(UTC+01:00) Bruxelles, Copenhague, Madrid, Paris', configuration: 'Serveur membre',
  },
  ja: {
    build: 'ビルド', hotfixCount: (n) => `${n} 個のホットフィックスがインストールされています。`, processors: '1 プロセッサインストール済みです。',
    nics: '1 NIC(s) インストール済みです。', installDate: '2012/03/14, 10:12:44', bootTime: '2026/11/02, 6:01:12', memory: (mb) => `${mb} MB`,
    locale: 'ja;日本語', timeZone: '(UTC+09:00) 大阪、札幌、東京', configuration: 'メンバー サーバー',
  },
};

/** The 32 values in systeminfo's order; lists (processors, hotfixes, network cards) as [value, entries]. */
function values(h: LocalisedHost, lang: Language): [string, string[]][] {
  const w = WORDING[lang];
  const build = h.version.split('.')[2];
  const entry = (i: number, text: string): string => `[${String(i + 1).padStart(2, '0')}]: ${text}`;
  return [
    [h.name, []],
    [h.osName, []],
    [`${h.version} Service Pack ${h.servicePack} ${w.build} ${build}`, []],
    ['Microsoft Corporation', []],
    [w.configuration, []],
    ['Multiprocessor Free', []],
    ['Windows User', []],
    ['', []],
    ['92573-OEM-7502905-27565', []],
    [w.installDate, []],
    [w.bootTime, []],
    ['VMware, Inc.', []],
    ['VMware Virtual Platform', []],
    [h.systemType, []],
    [w.processors, [entry(0, 'Intel64 Family 6 Model 85 Stepping 7 GenuineIntel ~2394 Mhz')]],
    ['Phoenix Technologies LTD 6.00, 12/12/2018', []],
    ['C:\\Windows', []],
    ['C:\\Windows\\system32', []],
    ['\\Device\\HarddiskVolume1', []],
    [w.locale, []],
    [w.locale, []],
    [w.timeZone, []],
    [w.memory('4,095'), []],
    [w.memory('2,871'), []],
    [w.memory('8,379'), []],
    [w.memory('7,012'), []],
    [w.memory('1,367'), []],
    ['C:\\pagefile.sys', []],
    ['CORP.EXAMPLE', []],
    ['\\\\DC01', []],
    [w.hotfixCount(h.hotfixes.length), h.hotfixes.map((kb, i) => entry(i, kb))],
    [w.nics, [entry(0, 'Intel(R) PRO/1000 MT Network Connection')]],
  ];
}

/** The list form: labels padded to one value column, list entries indented to it, CRLF. */
export function localisedSystemInfoList(h: LocalisedHost, lang: Language): string {
  const labels = LABELS[lang];
  const column = Math.max(...labels.map((l) => l.length)) + 2;
  const lines = [''];
  values(h, lang).forEach(([value, entries], i) => {
    lines.push(`${`${labels[i]}:`.padEnd(column)}${value}`);
    for (const e of entries) lines.push(`${''.padEnd(column)}${e}`);
  });
  lines.push('');
  return lines.join('\r\n');
}

/** `systeminfo /fo csv`: a header row of labels and one row of values; a list is one cell joined by commas. */
export function localisedSystemInfoCsv(h: LocalisedHost, lang: Language): string {
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const row = values(h, lang).map(([value, entries]) => [value, ...entries].join(','));
  return `${LABELS[lang].map(q).join(',')}\r\n${row.map(q).join(',')}\r\n`;
}
