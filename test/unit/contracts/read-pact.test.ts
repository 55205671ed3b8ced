import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContractError } from '../../../core/errors';
import { readPact } from '../../../contracts/read-pact';

// Whatever a pact file holds, reading it gives a summary or one ContractError naming the file and
// what is wrong, never a TypeError from deep inside.

const dir = mkdtempSync(join(tmpdir(), 'eda-read-pact-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const pact = (rest: Record<string, unknown>) => JSON.stringify({ consumer: { name: 'c' }, provider: { name: 'p' }, metadata: { pactSpecification: { version: '4.0' } }, ...rest });

test.each([
  ['null', 'null', 'is not a pact file: it holds null, not a JSON object'],
  ['a list', '[]', 'is not a pact file: it holds a list, not a JSON object'],
  ['a number', '42', 'is not a pact file: it holds a number (42), not a JSON object'],
  ['not JSON', '{', 'is not a readable pact file'],
  ['no names', '{}', 'is not a pact file (no consumer / provider name)'],
  ['interactions: [null]', pact({ interactions: [null] }), 'interactions[0] is null, not an interaction'],
  ['interactions: {}', pact({ interactions: {} }), '"interactions" is an object, not a list'],
  ['messages: [1]', pact({ messages: [1] }), 'messages[0] is a number (1), not an interaction'],
  ['no description', pact({ interactions: [{ type: 'Asynchronous/Messages' }] }), 'interactions[0] has no "description"'],
  ['providerStates: [null]', pact({ interactions: [{ description: 'd', providerStates: [null] }] }), '"providerStates" is not a list of { "name": … } objects'],
])('a pact file holding %s is a ContractError naming it', (name, content, message) => {
  const path = file(`${name.replace(/\W+/g, '_')}.json`, content);
  expect(() => readPact(path)).toThrow(ContractError);
  expect(() => readPact(path)).toThrow(message);
  expect(() => readPact(path)).toThrow(path);
});

test('interaction types follow the specification: V2/V3 `interactions` are HTTP, V3 `messages` are messages, V4 says so', () => {
  const v2 = readPact(file('v2.json', JSON.stringify({ consumer: { name: 'c' }, provider: { name: 'p' }, interactions: [{ description: 'get', request: { method: 'get', path: '/x' } }], metadata: { pactSpecification: { version: '2.0.0' } } })));
  expect(v2.interactions).toEqual([{ description: 'get', type: 'Synchronous/HTTP', states: [], transport: 'http GET /x' }]);
  const v3 = readPact(file('v3.json', JSON.stringify({ consumer: { name: 'c' }, provider: { name: 'p' }, messages: [{ description: 'm', providerStates: [{ name: 's' }] }], metadata: { pactSpecification: { version: '3.0.0' } } })));
  expect(v3.interactions).toEqual([{ description: 'm', type: 'Asynchronous/Messages', states: ['s'], transport: 'message' }]);
  const v4 = readPact(file('v4.json', pact({ interactions: [{ type: 'Synchronous/Messages', description: 'q' }] })));
  expect(v4.interactions[0]?.type).toBe('Synchronous/Messages');
  expect(readPact(file('none.json', JSON.stringify({ consumer: { name: 'c' }, provider: { name: 'p' } }))).specification).toBe('unknown');
});
