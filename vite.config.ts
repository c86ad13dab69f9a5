import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Builds the SPA in apps/web into apps/web/dist; the server serves that folder.
export default defineConfig({
  root: 'apps/web',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
