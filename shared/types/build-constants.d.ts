/** The package version, injected by esbuild at bundle time (undefined when running from sources). */
declare const __BOT_VERSION__: string | undefined;
