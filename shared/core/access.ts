/** Who may use the bot (from ALLOWED_USERS and ALLOWED_CONVERSATIONS). */
export interface AccessRules {
  /** Staff ids; empty means everyone. */
  allowedUsers: readonly string[];
  /** Conversation ids; empty means every conversation. */
  allowedConversations: readonly string[];
}

/** The parts of a message access depends on. */
export interface AccessSubject {
  conversationId: string;
  /** `senderStaffId`, or `senderId` for users outside the organisation. */
  userId: string;
}

/**
 * Whether the bot answers this sender here. Empty lists restrict nothing; when lists are set, a
 * message passes if either list names it (allowlists add up: "these people anywhere, and anyone in
 * these groups").
 */
export function isAllowed(subject: AccessSubject, rules: AccessRules): boolean {
  const { allowedUsers, allowedConversations } = rules;
  if (allowedUsers.length === 0 && allowedConversations.length === 0) return true;
  return allowedUsers.includes(subject.userId) || allowedConversations.includes(subject.conversationId);
}
