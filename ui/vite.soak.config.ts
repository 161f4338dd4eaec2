// Builds the soak page (src/soak.ts) for scripts/soak-webkit.sh into dist-soak/: the window's
// components with the mock backend, never shipped in the app.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    outDir: 'dist-soak',
    emptyOutDir: true,
    target: 'safari16',
    rollupOptions: { input: 'soak.html' },
  },
});
