/**
 * The process-wide budget for request body bytes the proxy holds for clients (bodies waiting for
 * an upstream connection). Each request also has its own high-water mark; once the process as a
 * whole holds more than the budget, every further held chunk pauses its client at once, so
 * memory stays bounded however many connections send bodies at the same time.
 */
export const bufferBudget = {
  /** bytes allowed (set from --buffer-budget) */
  limit: 64 * 1024 * 1024,
  /** bytes held right now */
  held: 0,
};

export function setBufferBudget(bytes: number): void {
  bufferBudget.limit = bytes;
}
