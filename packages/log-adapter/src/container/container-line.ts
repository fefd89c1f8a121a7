/** A line unwrapped from a container runtime's log file, reused across lines (no allocation). */
export class ContainerLine {
  /** 'stdout' | 'stderr' */
  stream = '';
  /** the runtime split the line (CRI `P`, Docker without trailing newline): more follows */
  partial = false;
  /** runtime stamp, RFC 3339 UTC */
  time = '';
  message = '';
}
