/**
 * The web console: Vue 3 built by Vite into dist/console, which the service serves at / (see
 * apps/ipam/src/http/console.static.ts). `npm run build` runs it after tsc and prints the bundle's size.
 */
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [vue()],
  define: {
    // the Composition API only: no Options API, no devtools hooks in the bundle
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  publicDir: here('public'),
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `npx vite --config apps/console/vite.config.ts` with the service on :8080
    proxy: { '/v1': 'http://127.0.0.1:8080' },
  },
});
