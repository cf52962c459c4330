import { useStore } from '../store';

export function ConnectionBanner() {
  const connection = useStore((s) => s.connection);
  if (connection === 'open') return null;
  const text =
    connection === 'unauthorised'
      ? 'This page has no valid access token. Open the dashboard URL that `nya mine` printed.'
      : connection === 'closed'
        ? 'Lost the connection to the miner; reconnecting…'
        : 'Connecting to the miner…';
  return (
    <div className={connection === 'unauthorised' ? 'banner error' : 'banner'} role="alert">
      {text}
    </div>
  );
}
