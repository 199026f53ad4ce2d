/** What users see for `\model` and `\system`: Chinese first, then English. */
export const STEERING_MESSAGES = {
  adminsOnly:
    '在群里只有管理员可以修改模型和系统提示（ADMIN_USERS）。\n\nIn a group only the administrators (ADMIN_USERS) may change the model or the system prompt.',
  noSystem: '本会话没有自己的系统提示。用 `\\system 文字` 设置。\n\nThis conversation has no system prompt of its own. Set one with `\\system TEXT`.',
  systemReset: '已清除本会话的系统提示。\n\nThis conversation\'s system prompt has been removed.',
  unavailable: '抱歉，暂时无法读取或保存本会话的设置，请稍后再试。\n\nSorry, this conversation\'s settings cannot be read or saved right now. Please try again later.',
} as const;

/** `\model`: the model in use and the choices. */
export function modelListMessage(current: string, choices: readonly string[]): string {
  if (choices.length === 0) {
    return `当前模型：\`${current}\`（管理员未开放切换，见 OPENAI_MODELS）。\n\nThe model in use is \`${current}\` (switching is not offered: OPENAI_MODELS is empty).`;
  }
  const list = choices.map((choice) => `- \`${choice}\`${choice === current ? ' ✓' : ''}`).join('\n');
  return `当前模型：\`${current}\`。可选：\n\n${list}\n\n用 \`\\model 名称\` 切换。 / The model in use is \`${current}\`; switch with \`\\model NAME\`.`;
}

/** `\model NAME` done. */
export function modelSwitchedMessage(model: string): string {
  return `已切换本会话的模型为 \`${model}\`，从下一个问题起生效。\n\nThis conversation now uses \`${model}\`, from the next question on.`;
}

/** `\model NAME` for a name that is not offered. */
export function unknownModelMessage(name: string, choices: readonly string[]): string {
  const list = choices.map((choice) => `\`${choice}\``).join(', ');
  return choices.length === 0
    ? `不能切换模型：管理员未开放（OPENAI_MODELS）。\n\nThe model cannot be switched here: OPENAI_MODELS is empty.`
    : `没有可选的模型 \`${name}\`。可选：${list}\n\nThere is no model \`${name}\` to switch to. The choices are: ${list}`;
}

/** `\system`: the conversation's prompt. */
export function systemShowMessage(text: string): string {
  return `本会话的系统提示 / This conversation's system prompt:\n\n> ${text.split('\n').join('\n> ')}\n\n\`\\system reset\` 清除 / removes it.`;
}

/** `\system TEXT` done (cut to `max` characters when it was longer). */
export function systemSetMessage(cut: boolean, max: number): string {
  const note = cut ? `（超过 ${max} 字的部分已省略 / cut at ${max} characters）` : '';
  return `已设置本会话的系统提示${note}，从下一个问题起生效。\n\nThis conversation's system prompt is set, from the next question on.`;
}
