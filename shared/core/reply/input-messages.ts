/**
 * The short texts users see when the bot cannot read what they sent. Chinese first, English after, like
 * every bot message (shared/core/user-messages.ts); the log has the cause.
 */
export const INPUT_MESSAGES = {
  picturesNeedClientId:
    '抱歉，这个机器人还不能看图片：管理员需要设置应用的 Client ID（DINGTALK_CLIENT_ID），机器人才能下载图片。请先用文字描述。\n\n' +
    "Sorry, this bot cannot see pictures yet: it downloads them through DingTalk's API, which needs the app's Client ID (DINGTALK_CLIENT_ID) set by the administrator. Please describe it in text for now.",
  filesNeedClientId:
    '抱歉，这个机器人还不能读取文件：管理员需要设置应用的 Client ID（DINGTALK_CLIENT_ID）。\n\n' +
    "Sorry, this bot cannot read files yet: it downloads them through DingTalk's API, which needs the app's Client ID (DINGTALK_CLIENT_ID) set by the administrator.",
  voiceUnrecognized: '抱歉，没能识别这条语音，请再说一次或改用文字。\n\nSorry, this voice message could not be recognised. Please try again or type it.',
  downloadFailed: '抱歉，没能下载你发送的内容，请稍后重试。\n\nSorry, what you sent could not be downloaded. Please try again in a moment.',
  notAPicture: '抱歉，这张图片的格式无法识别（支持 PNG、JPEG、GIF、WebP）。\n\nSorry, this picture is in a format the bot cannot read (PNG, JPEG, GIF and WebP work).',
} as const;

/** The message for a picture or file over the size limit. */
export function tooLargeMessage(what: 'picture' | 'file', maxBytes: number): string {
  const mb = Math.round(maxBytes / (1024 * 1024));
  const size = mb >= 1 ? `${mb} MB` : `${Math.round(maxBytes / 1024)} KB`;
  return what === 'picture'
    ? `抱歉，图片太大了（上限 ${size}），请压缩或截取后再发。\n\nSorry, this picture is too large (the limit is ${size}). Please send a smaller one.`
    : `抱歉，文件太大了（上限 ${size}）。\n\nSorry, this file is too large (the limit is ${size}).`;
}

/** The message for a file type the bot does not read, listing what it does. */
export function unsupportedFileMessage(fileName: string, supported: readonly string[]): string {
  const list = supported.map((extension) => `.${extension}`).join(' ');
  return (
    `抱歉，暂时只能读取纯文本类文件（${list}），不能读取「${fileName}」。PDF 和 Office 文件将在以后支持。\n\n` +
    `Sorry, only plain-text files can be read for now (${list}), not "${fileName}". PDF and Office files are a later step.`
  );
}
