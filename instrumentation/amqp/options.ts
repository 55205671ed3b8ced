/**
 * A copy of amqplib publish options holding everything the caller set, so the publish wrapper
 * can replace `headers` without touching the caller's object.
 *
 * `{ ...options }` keeps own enumerable properties only: options built by a class (fields set
 * through accessors on its prototype, getters over private fields) would lose `persistent`,
 * `messageId`, `replyTo`, `expiration`, and a persistent message would go out transient. amqplib
 * reads options by property access, inherited ones included, so the copy holds every string key
 * from the object up its prototype chain (up to Object.prototype / Function.prototype), each read
 * through the original object: getters run with their own `this` and private fields work. The
 * nearest definition wins; class constructors are not copied.
 *
 * A getter that throws is not read again now: amqplib would throw only if it read that very key,
 * so the copy gets a getter that reads the original when (and if) amqplib asks for it.
 * Listing the keys of a revoked Proxy throws: callers copy before they start a span.
 */
export function copyPublishOptions(options: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  // amqplib reads a missing or primitive options argument as "nothing set" (`options || {}`).
  if ((typeof options !== 'object' && typeof options !== 'function') || options === null) return copy;
  const source = options as Record<string, unknown>;
  const own = Object.getOwnPropertyNames(source);
  for (let i = 0; i < own.length; i++) copyKey(copy, source, own[i] as string);
  // A plain object literal (the usual options) stops here: nothing inherited to look for.
  for (let level = Object.getPrototypeOf(source) as object | null; level !== null && !isBuiltinPrototype(level); level = Object.getPrototypeOf(level) as object | null) {
    const keys = Object.getOwnPropertyNames(level);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (key === 'constructor' || hasOwn.call(copy, key)) continue;
      copyKey(copy, source, key);
    }
  }
  return copy;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Object.prototype or Function.prototype, of this realm or another one (a vm context, a worker's data). */
function isBuiltinPrototype(level: object): boolean {
  if (level === Object.prototype || level === Function.prototype) return true;
  const ctor = Object.getOwnPropertyDescriptor(level, 'constructor')?.value as { name?: unknown; prototype?: unknown } | undefined;
  return typeof ctor === 'function' && (ctor.name === 'Object' || ctor.name === 'Function') && ctor.prototype === level;
}

function copyKey(copy: Record<string, unknown>, source: Record<string, unknown>, key: string): void {
  let value: unknown;
  try {
    value = source[key];
  } catch {
    Object.defineProperty(copy, key, { get: () => source[key], enumerable: true, configurable: true });
    return;
  }
  // `__proto__` must stay a property, not become the copy's prototype; keys Object.prototype has
  // are defined rather than assigned, which works even where Object.prototype is frozen.
  if (key === '__proto__' || hasOwn.call(Object.prototype, key)) Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  else copy[key] = value;
}
