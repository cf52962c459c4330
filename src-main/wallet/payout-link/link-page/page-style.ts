/** The link page's stylesheet, served as /link-page.css; the app's palette, light and dark. */
export const LINK_PAGE_STYLE = `
:root { --bg: #f6f7f9; --panel: #fff; --text: #1b1f24; --muted: #5d6673; --border: #d8dde3; --accent: #6b4ce6; --accent-text: #fff; --ok: #1a7f37; --error: #c62828; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg: #15171b; --panel: #1e2127; --text: #e6e8eb; --muted: #9aa3ad; --border: #30353d; --accent: #9d86ff; --accent-text: #120c2b; --ok: #4ac26b; --error: #ff6b6b; } }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, sans-serif; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
section { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 0.75rem 1rem; margin: 1rem 0; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 0; }
code, pre, textarea, input, select { font-family: ui-monospace, Menlo, monospace; }
pre { background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem; white-space: pre-wrap; word-break: break-all; }
button { background: var(--panel); color: var(--text); border: 1px solid var(--border); border-radius: 6px; padding: 0.4rem 0.8rem; cursor: pointer; margin: 0.25rem 0.5rem 0.25rem 0; }
button.primary { background: var(--accent); color: var(--accent-text); border-color: var(--accent); }
button:disabled { opacity: 0.5; cursor: default; }
input, textarea, select { width: 100%; box-sizing: border-box; background: var(--panel); color: var(--text); border: 1px solid var(--border); border-radius: 6px; padding: 0.35rem 0.5rem; margin-bottom: 0.5rem; }
label { display: block; color: var(--muted); font-size: 0.9rem; }
.muted { color: var(--muted); }
.status { min-height: 1.5em; font-weight: 600; }
.status.ok { color: var(--ok); } .status.error { color: var(--error); }
`;
