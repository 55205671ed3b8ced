// Message headers written by producers, and the limits for reading headers.

export const HEADER = {
  /** Milliseconds since the epoch when the producer handed the message to the client (decimal string). */
  PRODUCED_AT: 'eda-produced-at',
} as const;

/** Header values longer than this are ignored when reading (W3C baggage allows 8192 bytes). */
export const MAX_HEADER_VALUE_BYTES = 8192 as const;
/** At most this many header keys are handed to a propagator that enumerates them (lookups never enumerate). */
export const MAX_HEADER_KEYS_SCANNED = 256 as const;
