// `npm run bench`: bundles the TypeScript harness (bench/main.ts, the warm driver and the handler host)
// with esbuild, then runs it with the same arguments. Plain JavaScript because it is what turns the
// TypeScript into something node can run; everything else lives in TypeScript next to it.
//
// The bundles go to node_modules/.cache/dingtalk-llm-bench/ (gitignored with node_modules/), so a bundle
// could still resolve packages at runtime. The harness reuses test/fakes and test/helpers, whose
// `__dirname` must keep meaning their source folder: the plugin below pins it per file.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'node_modules', '.cache', 'dingtalk-llm-bench');

/** Replaces `__dirname` in the repository's TypeScript by the file's own folder, as if it ran unbundled. */
const sourceDirname = {
  name: 'source-dirname',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))), loader: 'ts' };
    });
  },
};

await build({
  entryPoints: {
    main: path.join(root, 'bench', 'main.ts'),
    'warm-driver': path.join(root, 'bench', 'warm-driver.ts'),
    'handler-host': path.join(root, 'bench', 'handler-host.ts'),
  },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [sourceDirname],
});

const result = spawnSync(process.execPath, ['--enable-source-maps', path.join(outdir, 'main.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exitCode = result.status ?? 1;
