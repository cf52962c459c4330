import { useEffect, useState } from 'react';

type Theme = 'system' | 'light' | 'dark';

/** A view-only preference: kept in the browser, never sent to main. */
export function ThemeSwitch() {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('nya-theme') as Theme | null) ?? 'system');
  useEffect(() => {
    if (theme === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
    localStorage.setItem('nya-theme', theme);
  }, [theme]);
  return (
    <label className="theme">
      Theme
      <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
