/** A weighted server entry as distributions see it: its index in the pool and its hashing name. */
export interface DistServer {
  index: number;
  name: string;
  weight: number;
}

/** Maps a key hash to the index of a server in the pool. */
export interface Distribution {
  readonly kind: 'ketama' | 'modula' | 'random';
  /** number of points; 0 when no server is live */
  readonly size: number;
  dispatch(hash: number): number;
}
