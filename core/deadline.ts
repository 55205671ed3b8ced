import { TimeoutError } from './errors';

/**
 * `work`, or the error `onTimeout` makes once `ms` have passed first (a {@link TimeoutError}
 * naming `what` by default). The timer is always cleared, so a settled race holds no handle.
 * `work` itself is not cancelled: callers that hold resources close them on the timeout error.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(typeof onTimeout === 'string' ? new TimeoutError(`${onTimeout} took longer than ${ms} ms`) : onTimeout()), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
