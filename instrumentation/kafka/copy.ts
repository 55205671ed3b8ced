/**
 * A plain-object copy of everything a caller set on a kafkajs argument (a record, a message, a
 * run() config), so the wrappers can replace one property (headers, a handler) without touching
 * the caller's object.
 *
 * `{ ...obj }` keeps own enumerable properties only: a message built by a class (`get key()`,
 * `get value()` on its prototype, maybe over private fields) or a run() config whose `eachMessage`
 * is a class method would lose them. kafkajs reads such objects through their getters, but it
 * spreads messages itself before encoding, so the copy also has to turn them into own data
 * properties for the key and value to reach the broker at all.
 *
 * Every string key from the object up its prototype chain (stopping at Object.prototype) is read
 * through the original object, so getters run with their own `this` and private fields work. The
 * nearest definition wins; class constructors are not copied. A throwing getter throws here:
 * callers copy before they start anything that would need ending.
 */
export function copyProperties(source: object): Record<string, unknown> {
  const own = Object.getOwnPropertyNames(source);
  // Own enumerable properties (all of a plain message) at the engine's own copying speed: a
  // key-by-key copy costs several times more per message.
  const copy = assignable(own) ? (Object.assign({}, source) as Record<string, unknown>) : { ...source };
  // Own but not enumerable (Object.defineProperty, accessors set up in a constructor): add them.
  if (own.length !== countKeys(copy)) {
    for (const key of own) if (!hasOwn.call(copy, key)) copyKey(copy, source, key);
  }
  // Plain objects (the usual message) stop here: nothing inherited to look for.
  for (let level = Object.getPrototypeOf(source) as object | null; level !== null && !isObjectPrototype(level); level = Object.getPrototypeOf(level) as object | null) {
    for (const key of Object.getOwnPropertyNames(level)) {
      // A nearer level already defined it (and reading it gave the nearest definition anyway).
      if (key === 'constructor' || hasOwn.call(copy, key)) continue;
      copyKey(copy, source, key);
    }
  }
  return copy;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Whether Object.assign({}, source) makes the same copy as `{ ...source }`: it does unless a key
 * also exists on Object.prototype (assignment would call `__proto__`'s setter, or fail where
 * Object.prototype is frozen). Assign is preferred because V8 gives a spread's result a map that
 * adding a property to (the wrappers add `headers`) sends to the runtime: about 0.5 µs per message.
 */
function assignable(keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) if (hasOwn.call(Object.prototype, keys[i] as string)) return false;
  return true;
}

/** String keys `for…in` sees on a fresh copy (its own; Object.prototype has none unless polluted, which only costs the slow path). */
function countKeys(o: object): number {
  let n = 0;
  for (const _key in o) n++;
  return n;
}

/** Object.prototype of this realm or of another one (an object built in a vm context or a worker's data). */
function isObjectPrototype(level: object): boolean {
  if (level === Object.prototype) return true;
  if (Object.getPrototypeOf(level) !== null) return false;
  const ctor = Object.getOwnPropertyDescriptor(level, 'constructor')?.value as { name?: unknown; prototype?: unknown } | undefined;
  return typeof ctor === 'function' && ctor.name === 'Object' && ctor.prototype === level;
}

function copyKey(copy: Record<string, unknown>, source: object, key: string): void {
  const value = (source as Record<string, unknown>)[key];
  // `__proto__` as an own key must stay a property, not become the copy's prototype.
  if (key === '__proto__') Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  else copy[key] = value;
}

/** Whether `value` is an object kafkajs treats as a message (and so gets headers): not an array or a byte view. */
export function isMessageObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}
