import { createServices, type Services } from './services';
import { distPath } from '../../src-node/app-paths';
import { appVersion } from '../../src-node/app-version';
import { startDashboardServer, type DashboardServer } from '../headless/dashboard-server';
import type { LogHub } from '../../src-node/log';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics';
import type { Settings } from '../../src-shared/state';
import { passphraseBox } from '../wallet';

export interface HeadlessOptions {
  dataDir: string;
  dashboardPort: number;
  log: LogHub;
  settingsOverrides?: Partial<Settings>;
  /** `--gpu-memory-mib`: the GPU memory to choose the teacher for. */
  gpuMemoryMiB?: number;
  /** The wallet passphrase (NYA_WALLET_PASSPHRASE); without it only the embedded validator can be used. */
  walletPassphrase?: string | null;
  token?: string;
  localEpochMs?: number;
}

export interface Headless {
  services: Services;
  dashboard: DashboardServer;
  close(): Promise<void>;
}

/** `nya mine`: the same services the desktop app runs, with the dashboard on loopback instead of a window. */
export async function startHeadless(o: HeadlessOptions): Promise<Headless> {
  const services = await createServices({
    dataDir: o.dataDir,
    log: o.log,
    ...(o.settingsOverrides ? { settingsOverrides: o.settingsOverrides } : {}),
    ...(o.gpuMemoryMiB !== undefined ? { gpuMemoryMiB: o.gpuMemoryMiB } : {}),
    ...(o.walletPassphrase ? { secretBox: passphraseBox(o.walletPassphrase) } : {}),
    ...(o.localEpochMs ? { localEpochMs: o.localEpochMs } : {}),
    clientName: `nya-miner-headless/${appVersion()}`,
    ...(o.walletPassphrase ? { diagnosticsSecrets: [o.walletPassphrase] } : {}),
  });
  let dashboard: DashboardServer;
  try {
    dashboard = await startDashboardServer({
      port: o.dashboardPort,
      staticDir: distPath('renderer'),
      router: services.router,
      getState: () => services.state.get(),
      onState: services.state.onChange,
      log: o.log.logger('dashboard'),
      ...(o.token ? { token: o.token } : {}),
      routes: { '/metrics': async () => ({ contentType: PROMETHEUS_CONTENT_TYPE, body: await services.metrics() }) },
    });
  } catch (error) {
    await services.dispose();
    throw error;
  }
  return {
    services,
    dashboard,
    async close() {
      await dashboard.close();
      await services.dispose();
    },
  };
}
