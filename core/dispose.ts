/**
 * `await using` needs Symbol.asyncDispose. Node 20 defines it in the main realm only; VM contexts
 * (Jest's test sandboxes, some bundlers' runtimes) lack it. Define it where missing so started
 * environments can always be disposed with `await using`.
 */
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('Symbol.asyncDispose');
symbols.dispose ??= Symbol.for('Symbol.dispose');

export {};
