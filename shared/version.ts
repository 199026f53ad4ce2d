/** The bot's version: package.json's, baked into each bundle by scripts/build.mjs. */
export const BOT_VERSION: string = typeof __BOT_VERSION__ === 'string' ? __BOT_VERSION__ : 'dev';
