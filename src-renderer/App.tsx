import { ConnectionBanner } from './components/ConnectionBanner';
import { Nav } from './components/Nav';
import { Onboarding } from './components/Onboarding';
import { DashboardPage } from './pages/DashboardPage';
import { LeaderboardPage } from './pages/LeaderboardPage';
import { LogsPage } from './pages/LogsPage';
import { SettingsPage } from './pages/SettingsPage';
import { WalletPage } from './pages/WalletPage';
import { useStore } from './store';

export function App() {
  const page = useStore((s) => s.page);
  const hasSnapshot = useStore((s) => s.snapshot !== null);
  const onboarding = useStore((s) => s.snapshot !== null && !s.snapshot.settings.onboardingDone);
  return (
    <div className="app">
      <Nav />
      <main className="content" aria-live="polite">
        <ConnectionBanner />
        {!hasSnapshot ? (
          <p className="muted" role="status">
            Waiting for the miner…
          </p>
        ) : page === 'dashboard' ? (
          <DashboardPage />
        ) : page === 'leaderboard' ? (
          <LeaderboardPage />
        ) : page === 'wallet' ? (
          <WalletPage />
        ) : page === 'settings' ? (
          <SettingsPage />
        ) : (
          <LogsPage />
        )}
      </main>
      {onboarding && <Onboarding />}
    </div>
  );
}
