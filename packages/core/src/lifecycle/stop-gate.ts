/** Why a stop was asked for: a signal (SIGTERM, SIGINT) or the component itself (its stdin ended). */
export type StopCause = 'signal' | 'request';

/** What a stop request does: start the drain, join the one under way, or exit at once. */
export type StopStep = 'drain' | 'joined' | 'exit';

/**
 * The process's stop decisions. The first stop drains. A second *signal* exits at once (an
 * operator pressing Ctrl-C twice). The first signal that arrives while a stop the component
 * asked for is draining joins that drain: the kubelet, or a shell stopping a pipeline, sends
 * SIGTERM without knowing the process already began to stop, and that is no reason to cut the
 * drain short (it used to exit 130 with records unsent).
 */
export function stopGate(): (cause: StopCause) => StopStep {
  let stopping = false;
  let signalled = false;
  return (cause) => {
    if (!stopping) {
      stopping = true;
      signalled = cause === 'signal';
      return 'drain';
    }
    if (cause === 'request') return 'joined';
    if (!signalled) {
      signalled = true;
      return 'joined';
    }
    return 'exit';
  };
}
