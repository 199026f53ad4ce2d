/** What users see for `\memory` and `\forget`: Chinese first, then English, like every bot message. */
export const MEMORY_MESSAGES = {
  off: '这个机器人没有开启长期记忆。\n\nLong-term memory is turned off for this bot.',
  empty: '我还没有记住关于你的任何信息。你可以说“记住……”让我记下来。\n\nI do not remember anything about you yet. Say "remember that …" and I will.',
  forgotAll: '已忘记关于你的全部记忆。\n\nI have forgotten everything I remembered about you.',
  forgetUsage:
    '用法：`\\forget 2` 忘记第 2 条（编号见 `\\memory`），`\\forget all` 全部忘记。\n\nUsage: `\\forget 2` forgets item 2 (numbers as `\\memory` shows them); `\\forget all` forgets everything.',
  unavailable: '抱歉，暂时无法读取记忆，请稍后再试。\n\nSorry, the memory cannot be read right now. Please try again later.',
} as const;

/** `\memory`: the facts, numbered. */
export function memoryListMessage(items: readonly string[]): string {
  const numbered = items.map((item, index) => `${index + 1}. ${item}`).join('\n');
  return `**我记住的关于你的信息 / What I remember about you**\n\n${numbered}\n\n\`\\forget N\` 忘记一条，\`\\forget all\` 全部忘记。 / \`\\forget N\` forgets one, \`\\forget all\` everything.`;
}

/** `\forget N` done, or N out of range. */
export function forgotOneMessage(which: number, removed: readonly string[]): string {
  if (removed.length === 0) return `没有第 ${which} 条记忆，请用 \`\\memory\` 查看编号。\n\nThere is no memory number ${which}; \`\\memory\` shows the numbers.`;
  return `已忘记：${removed.join('；')}\n\nForgotten: ${removed.join('; ')}`;
}
