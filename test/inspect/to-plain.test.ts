import { describe, expect, it } from 'vitest';
import { toPlain } from '../../src/inspect/to-plain.js';

describe('toPlain', () => {
  it('cuts cycles and deep nesting, names functions, keeps errors readable', () => {
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    const error = Object.assign(new Error('boom', { cause: 'disk full' }), { code: 'E_X' });
    expect(toPlain({ node, fn: function check() {}, error, n: NaN, big: 10n, when: new Date(0), skip: undefined }, 5)).toEqual({
      node: { name: 'a', self: '[Circular]' },
      fn: { type: 'check' },
      error: { name: 'Error', message: 'boom', cause: 'disk full', code: 'E_X' },
      n: 'NaN',
      big: '10',
      when: '1970-01-01T00:00:00.000Z',
    });
    expect(toPlain({ a: { b: { c: { d: 1 } } } }, 2)).toEqual({ a: { b: '[…]' } });
  });

  it('uses toJSON (actor refs become their id, not the whole actor)', () => {
    const actor = { toJSON: () => ({ id: 'x' }), system: { huge: true } };
    expect(toPlain({ children: { x: actor } }, 5)).toEqual({ children: { x: { id: 'x' } } });
  });

  it('shares no problem with repeated (non-circular) references', () => {
    const shared = { v: 1 };
    expect(toPlain([shared, shared], 5)).toEqual([{ v: 1 }, { v: 1 }]);
  });
});
