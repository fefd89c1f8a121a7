/** Set by a `--workers N` primary in the environment of each worker it forks (the primary's pid). */
export const WORKER_ENV = 'DDS_WORKER_OF';
