// Bundles each function into one CommonJS file under dist/<name>/index.js for FC's nodejs20 runtime.
// One file per function keeps cold starts short: no node_modules resolution at load time.
import { build } from 'esbuild';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

/** Packages that must never reach a bundle, with the reason, checked against esbuild's metafile. */
const forbidden = {
  // FC 3.0's SDK (the ACS3 fallback of the invocation) lives in dist/conversation/fc3-sdk.js, loaded only
  // when FC refuses @alicloud/fc2's signature.
  conversation: [
    'node_modules/openai/',
    'node_modules/gpt-tokenizer/',
    'node_modules/@aws-sdk/',
    'node_modules/@smithy/',
    'node_modules/@alicloud/fc20230330/',
    'node_modules/@alicloud/openapi-core/',
    'node_modules/@darabonba/',
  ],
  // The AWS SDK (S3 history) lives in dist/reply/s3-sdk.js, loaded only when S3_BUCKET is set.
  reply: ['node_modules/@aws-sdk/', 'node_modules/@smithy/'],
};

/**
 * @alicloud/fc2 requires ali-oss and ws at load time for code upload and websocket invocations; the
 * conversation function only calls InvokeFunction, so they are replaced there by a module that throws
 * if anything ever calls it. This keeps ~700 KB out of the bundle that sits on DingTalk's ack path.
 */
const unusedByConversation = {
  name: 'unused-by-conversation',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(ali-oss|ws)$/ }, (args) =>
      args.importer.includes(`${path.sep}@alicloud${path.sep}fc2${path.sep}`)
        ? { path: args.path, namespace: 'unused-by-conversation' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'unused-by-conversation' }, (args) => ({
      contents: `module.exports = function unavailable() { throw new Error(${JSON.stringify(
        `${args.path} is not bundled into the conversation function`,
      )}); };`,
      loader: 'js',
    }));
  },
};

/**
 * The tokenizer's tables are 2.4 MB of JavaScript that most replies never need (see
 * shared/llm/token-counter.ts). The reply bundle requires them from a file of their own beside it, so
 * a cold start does not parse them; that file is built by {@link tokenizerSource} below.
 */
const TOKENIZER_FILE = 'o200k_base.js';
const tokenizerBesideBundle = {
  name: 'tokenizer-beside-bundle',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^gpt-tokenizer\/encoding\/o200k_base$/ }, () => ({ path: `./${TOKENIZER_FILE}`, external: true }));
  },
};

/**
 * The AWS SDK (~600 KB minified) only serves teams that set S3_BUCKET. The S3 store requires it when
 * the first store is created (shared/adapters/s3-object-store.ts); in the reply bundle that require
 * points at a file of its own beside it, bundled separately below, so nobody else ships or parses it.
 */
const S3_SDK = '@aws-sdk/client-s3';
const S3_SDK_FILE = 's3-sdk.js';
const s3SdkBesideBundle = {
  name: 's3-sdk-beside-bundle',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@aws-sdk\/client-s3$/ }, () => ({ path: `./${S3_SDK_FILE}`, external: true }));
  },
};

/**
 * FC 3.0's own SDK (@alicloud/fc20230330 with its OpenAPI core, ~100 ms to load) signs ACS3-HMAC-SHA256:
 * the conversation function needs it only if FC refuses @alicloud/fc2's signature
 * (shared/adapters/fc-acs3-invoke.ts). Its require points at a file of its own beside the bundle, so the
 * ack path never ships or parses it.
 */
const FC3_SDK = '@alicloud/fc20230330';
const FC3_SDK_FILE = 'fc3-sdk.js';
const fc3SdkBesideBundle = {
  name: 'fc3-sdk-beside-bundle',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@alicloud\/fc20230330$/ }, () => ({ path: `./${FC3_SDK_FILE}`, external: true }));
  },
};

/**
 * The source of dist/reply/o200k_base.js: gpt-tokenizer's own encoder, given the same o200k ranks, but
 * as one JSON string instead of a 200,000-element array literal. V8 parses JSON much faster than a
 * literal that size: loading the tokenizer takes ~45 ms and ~12 MB less (measured with `npm run bench`,
 * "reply cold, long prompt"). Same class, same ranks, so the counts are exactly the package's
 * (test/scripts/tokenizer-file.test.ts compares them).
 */
function tokenizerSource() {
  const ranks = createRequire(path.join(root, 'package.json'))('gpt-tokenizer/bpeRanks/o200k_base').default;
  return [
    "const { GptEncoding } = require('gpt-tokenizer/GptEncoding');",
    `const ranks = JSON.parse(${JSON.stringify(JSON.stringify(ranks))});`,
    "module.exports = GptEncoding.getEncodingApi('o200k_base', () => ranks);",
  ].join('\n');
}

async function bundle(name) {
  const outfile = path.join(root, 'dist', name, 'index.js');
  const result = await build({
    entryPoints: [path.join(root, 'functions', name, 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Whitespace and syntax minified, identifiers kept: the bundle is larger, but it loads faster than
    // with mangled names plus keepNames (measured: ~12 ms less per reply cold start with `npm run bench`),
    // and class names stay real, so errors in the logs keep their type (ConfigError, APIError, ...).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    // urllib (under ali-oss) loads proxy-agent only when an HTTP proxy is configured, which FC never does.
    external: ['proxy-agent'],
    logLevel: 'warning',
    define: { __BOT_VERSION__: JSON.stringify(version) },
    plugins: name === 'conversation' ? [unusedByConversation, fc3SdkBesideBundle] : [tokenizerBesideBundle, s3SdkBesideBundle],
  });
  const inputs = Object.keys(result.metafile.inputs);
  for (const pattern of forbidden[name]) {
    const hit = inputs.find((input) => input.includes(pattern));
    if (hit) throw new Error(`dist/${name} must not contain ${pattern} (pulled in by ${hit})`);
  }
  await mkdir(path.join(root, 'dist', name), { recursive: true });
  await writeFile(path.join(root, 'dist', `${name}.meta.json`), JSON.stringify(result.metafile));
  const bytes = result.metafile.outputs[path.relative(root, outfile)]?.bytes ?? 0;
  console.log(`dist/${name}/index.js ${(bytes / 1024).toFixed(1)} KB`);
  if (name === 'conversation') {
    await bundleBeside(name, FC3_SDK_FILE, `module.exports = require(${JSON.stringify(FC3_SDK)});`, 'loaded only if FC refuses the fc2 signature');
  }
  if (name === 'reply') {
    await bundleBeside(name, TOKENIZER_FILE, tokenizerSource(), 'loaded on first use');
    await bundleBeside(name, S3_SDK_FILE, `module.exports = require(${JSON.stringify(S3_SDK)});`, 'loaded only with S3_BUCKET');
  }
}

/** Bundles `source` into dist/<name>/<file>, a module the function requires lazily from beside its bundle. */
async function bundleBeside(name, file, source, when) {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'js' },
    outfile: path.join(root, 'dist', name, file),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
  console.log(`dist/${name}/${file} ${(bytes / 1024).toFixed(1)} KB (${when})`);
}

/** Entry points of the laptop tools under local/ (npm start, npm run chat, npm run doctor, npm run predeploy-check, npm run connect, npm run admin). */
export const LOCAL_TOOLS = ['start', 'chat', 'doctor', 'deploy-check', 'connect', 'admin'];

/**
 * Bundles the local tools to dist/local/<tool>.js. They are never deployed: not minified (readable
 * stack traces), and they load the function bundles from dist/ at run time rather than embedding them.
 */
async function bundleLocalTools() {
  await build({
    entryPoints: LOCAL_TOOLS.map((tool) => path.join(root, 'local', `${tool}.ts`)),
    outdir: path.join(root, 'dist', 'local'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    legalComments: 'none',
    external: ['proxy-agent'],
    logLevel: 'warning',
    define: { __BOT_VERSION__: JSON.stringify(version) },
  });
  console.log(`dist/local/{${LOCAL_TOOLS.join(',')}}.js`);
}

// Run as a script (not when local/run.mjs imports LOCAL_TOOLS).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  for (const name of only.length > 0 ? only : ['conversation', 'reply', 'local']) {
    if (name === 'local') await bundleLocalTools();
    else await bundle(name);
  }
}
