import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

// The renderer only. Relative base: Electron serves it from app://, headless mode from its own
// loopback server, and both load the same files.
export default defineConfig({
  root: resolve(import.meta.dirname, 'src-renderer'),
  base: './',
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/renderer'),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // recharts alone is ~400 kB; one local bundle loads once from disk, so splitting buys nothing.
    chunkSizeWarningLimit: 1500,
  },
});
