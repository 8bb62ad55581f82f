import { defineConfig } from "vite";

// The dashboard is served by the server under /ui (packages/server/src/api/ui.ts), from dist/.
// JSX is compiled by Vite's own transformer (oxc) for Preact: no Babel, no plugin.
export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // One small app: a single script and stylesheet load faster than a tree of chunks.
    chunkSizeWarningLimit: 400,
  },
});
