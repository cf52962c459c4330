/**
 * The systemd unit for a headless rig: `nya mine` as its own system user, its data in
 * `StateDirectory=` (/var/lib/nya-miner), the wallet passphrase handed over as a systemd
 * credential (never in the unit, the environment or `ps`), restarted on failure, and sandboxed as
 * far as a GPU program allows: the NVIDIA and DRM device nodes stay reachable, and V8's JIT needs
 * writable executable memory, so `MemoryDenyWriteExecute=` is left off.
 */
export const SERVICE_NAME = 'nya-miner';
export const SERVICE_USER = 'nya-miner';
/** The credential's name: `nya mine` reads `$CREDENTIALS_DIRECTORY/wallet-passphrase`. */
export const WALLET_PASSPHRASE_CREDENTIAL = 'wallet-passphrase';

export interface UnitOptions {
  user: string;
  /** The Node binary and the `nya` script, absolute. */
  nodePath: string;
  cliPath: string;
  /** Encrypted with `systemd-creds encrypt` (LoadCredentialEncrypted=) or a root-only file (LoadCredential=). */
  credential: 'encrypted' | 'plain';
  /** `nya mine` options: --validator, --model, --ep. */
  mineArgs: string[];
  /** Of `GPU_GROUPS`, those this system has: systemd refuses to start a unit naming a missing group. */
  gpuGroups: string[];
}

/** The GPU device nodes' groups on Debian and Ubuntu: /dev/dri/renderD* is `render`, older cards' nodes `video`. */
export const GPU_GROUPS = ['video', 'render'];

/** Where the credential file is read from: systemd's own credential stores. */
export function credentialPath(kind: UnitOptions['credential']): string {
  return kind === 'encrypted'
    ? `/etc/credstore.encrypted/${SERVICE_NAME}.${WALLET_PASSPHRASE_CREDENTIAL}`
    : `/etc/credstore/${SERVICE_NAME}.${WALLET_PASSPHRASE_CREDENTIAL}`;
}

/** One ExecStart= word, double-quoted when systemd would otherwise split or expand it. */
function word(arg: string): string {
  if (/^[\w@+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%').replaceAll('$', '$$')}"`;
}

export function systemdUnit(o: UnitOptions): string {
  // %S is systemd's state root (/var/lib): the one specifier here, so it is written unquoted.
  const exec = [
    word(o.nodePath),
    word(o.cliPath),
    'mine',
    '--data-dir',
    `%S/${SERVICE_NAME}`,
    '--dashboard-port',
    '7420',
    ...o.mineArgs.map(word),
  ];
  const load = o.credential === 'encrypted' ? 'LoadCredentialEncrypted' : 'LoadCredential';
  return `# Written by \`nya service install\`; \`nya service uninstall\` removes it (the data in /var/lib/${SERVICE_NAME} stays).
[Unit]
Description=Nya Miner (headless): soft labels for the Nya subnet
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
ExecStart=${exec.join(' ')}
User=${o.user}
Group=${o.user}
${o.gpuGroups.length > 0 ? `SupplementaryGroups=${o.gpuGroups.join(' ')}\n` : ''}StateDirectory=${SERVICE_NAME}
StateDirectoryMode=0700
WorkingDirectory=%S/${SERVICE_NAME}
${load}=${WALLET_PASSPHRASE_CREDENTIAL}:${credentialPath(o.credential)}
Restart=on-failure
RestartSec=10s
# nya mine finishes the result it is writing within 15 s of SIGTERM.
TimeoutStopSec=30s
UMask=0077

NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
# Only the GPU: NVIDIA's control, per-card, UVM and capability nodes, and DRM render nodes.
DevicePolicy=closed
DeviceAllow=char-nvidia-frontend rw
DeviceAllow=char-nvidia-uvm rw
DeviceAllow=char-nvidia-caps rw
DeviceAllow=char-drm rw

[Install]
WantedBy=multi-user.target
`;
}
