// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NyaBridge } from '../../src-shared/ipc';
import type { NetworkList } from '../../src-shared/network';
import { BridgeContext } from '../../src-renderer/bridge-context';
import { Onboarding } from '../../src-renderer/components/Onboarding';
import { applySnapshot, useStore } from '../../src-renderer/store';
import { IDLE_DOWNLOAD } from '../../src-main/model-manager/download-service';
import { fakeBridge, snapshot } from './fixtures';

const NETWORKS: NetworkList = {
  networks: [
    { name: 'local', label: 'This computer only', validators: [], communeRpc: null, explorer: null },
    { name: 'lab', label: 'The lab network', validators: ['https://v.lab.example'], communeRpc: null, explorer: null },
  ],
  defaultNetwork: 'local',
  problem: null,
};

const remote = snapshot().validator;
const onRemote = { validator: { ...remote, mode: 'remote' as const, url: 'https://v.lab.example' } };

beforeEach(() => useStore.setState({ snapshot: null, page: 'dashboard' }));
afterEach(cleanup);

function renderGuide(bridge: NyaBridge) {
  return render(
    <BridgeContext.Provider value={bridge}>
      <Onboarding />
    </BridgeContext.Provider>,
  );
}

const next = () => fireEvent.click(screen.getByRole('button', { name: 'Next' }));

describe('first-run guide', () => {
  it('offers the networks and saves the one picked, with its own validator', async () => {
    const bridge = fakeBridge((ch, req) =>
      ch === 'network:list'
        ? { ok: true, value: NETWORKS }
        : { ok: true, value: { ...snapshot().settings, ...(req as { patch: object }).patch } },
    );
    applySnapshot(snapshot({ settings: { ...snapshot().settings, validatorUrl: 'https://old.example' } }));
    renderGuide(bridge);
    const choice = await screen.findByTestId('network-choice');
    expect((within(choice).getByRole('radio', { name: /This computer only/ }) as HTMLInputElement).checked).toBe(true);
    within(choice).getByText(/Mining for/);
    fireEvent.click(within(choice).getByRole('radio', { name: /The lab network/ }));
    await act(async () => undefined);
    expect(bridge.calls.filter(([ch]) => ch === 'settings:update')).toEqual([
      ['settings:update', { patch: { network: 'lab', validatorUrl: null } }],
    ]);
  });

  it('shows getting the teacher as one step with its progress, never download buttons', async () => {
    const bridge = fakeBridge((ch) =>
      ch === 'network:list' ? { ok: true, value: NETWORKS } : { ok: false, error: { code: 'unavailable', message: 'unused' } },
    );
    applySnapshot(
      snapshot({
        ...onRemote,
        teacher: { ...snapshot().teacher, state: 'not-loaded', modelName: null },
        modelDownload: {
          ...IDLE_DOWNLOAD,
          status: 'downloading',
          variantId: 'mistral-7b-instruct-v0.3-int4',
          file: 'model.onnx_data',
          variantBytesDone: 1.2e9,
          variantBytesTotal: 4.2e9,
          overall: 1.2 / 4.2,
        },
      }),
    );
    renderGuide(bridge);
    next();
    next();
    const step = screen.getByTestId('teacher-step');
    within(step).getByText('Getting the teacher: 1.2 of 4.2 GB');
    expect(within(step).getByRole('progressbar', { name: 'Teacher download' }).getAttribute('aria-valuenow')).toBe('286');
    expect(screen.queryByRole('button', { name: 'Download' })).toBeNull();
    expect(bridge.calls.some(([ch]) => ch === 'model:catalog')).toBe(false);

    act(() =>
      applySnapshot(
        snapshot({
          ...onRemote,
          seq: 2,
          modelDownload: {
            ...IDLE_DOWNLOAD,
            status: 'error',
            variantId: 'mistral-7b-instruct-v0.3-int4',
            error: 'not enough free disk space in /d',
          },
        }),
      ),
    );
    within(screen.getByTestId('teacher-step')).getByText('Getting the teacher stopped: not enough free disk space in /d');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(bridge.calls.at(-1)).toEqual(['model:download', { variantId: 'mistral-7b-instruct-v0.3-int4' }]);
  });

  it('says the local network needs no download', () => {
    applySnapshot(snapshot());
    renderGuide(fakeBridge(() => ({ ok: true, value: NETWORKS })));
    next();
    next();
    within(screen.getByTestId('teacher-step')).getByText(/runs the bundled demo model: there is nothing to download/);
  });
});
