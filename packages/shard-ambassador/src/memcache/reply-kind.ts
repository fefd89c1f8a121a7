/** How a memcached server's reply to a request is framed. */
export const ReplyKind = {
  /** one line: STORED, DELETED, NOT_FOUND, a number, TOUCHED, errors */
  Line: 0,
  /** get/gets/gat/gats: VALUE blocks up to END (or one error line) */
  Retrieval: 1,
  /** meta commands: one line, plus a data block after a VA line */
  Meta: 2,
} as const;
