import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Builds the SPA in apps/web into apps/web/dist; the server serves that folder.
export default defineConfig({
  root: 'apps/web',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  // ws: the job terminal is a WebSocket under /api.
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
