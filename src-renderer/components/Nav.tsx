import { ThemeSwitch } from './ThemeSwitch';
import { PAGES, useStore, type Page } from '../store';

const LABELS: Record<Page, string> = {
  dashboard: 'Dashboard',
  leaderboard: 'Leaderboard',
  wallet: 'Wallet',
  settings: 'Settings',
  logs: 'Logs',
};

export function Nav() {
  const page = useStore((s) => s.page);
  const setPage = useStore((s) => s.setPage);
  const demo = useStore((s) => s.snapshot?.teacher.isDemo ?? false);
  return (
    <nav className="nav" aria-label="Pages">
      <div className="brand">
        Nya Miner
        {demo && (
          <span className="badge warn" title="The bundled tiny model: its labels are not real teacher output">
            demo model
          </span>
        )}
      </div>
      <ul>
        {PAGES.map((p) => (
          <li key={p}>
            <button
              type="button"
              className={p === page ? 'nav-item active' : 'nav-item'}
              aria-current={p === page ? 'page' : undefined}
              onClick={() => setPage(p)}
            >
              {LABELS[p]}
            </button>
          </li>
        ))}
      </ul>
      <ThemeSwitch />
    </nav>
  );
}
