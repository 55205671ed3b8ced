import { HttpRequestError, ToxiproxyError, requestJson, requestText } from '@eda-harness/core';
import type { ProxyFaults, ToxicDirection } from '../types';

/**
 * A small client for Toxiproxy's HTTP API (v2) on core's requestJson: create proxies, add and remove
 * toxics, enable and disable proxies. Every failure is a ToxiproxyError naming the call, with the
 * HttpRequestError as its cause and its `retriable` (unreachable, timed out or 5xx: retriable).
 */
export class ToxiproxyClient {
  constructor(readonly apiUrl: string) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.call(method, path, () => requestJson<T>(`${this.apiUrl}${path}`, { method, ...(body === undefined ? {} : { body }) }));
  }

  async version(): Promise<string> {
    return (await this.call('GET', '/version', () => requestText(`${this.apiUrl}/version`, { timeoutMs: 2_000 }))).trim();
  }

  private async call<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof HttpRequestError)) throw err;
      throw new ToxiproxyError(`Toxiproxy API ${method} ${path}: ${err.message}`, { cause: err, retriable: err.retriable });
    }
  }

  async createProxy(name: string, listen: string, upstream: string): Promise<void> {
    await this.request('POST', '/proxies', { name, listen, upstream, enabled: true });
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.request('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  async addToxic(proxy: string, toxic: { name: string; type: string; stream: ToxicDirection; toxicity?: number; attributes: Record<string, number> }): Promise<void> {
    await this.request('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, { toxicity: 1, ...toxic });
  }

  async listToxics(proxy: string): Promise<{ name: string; type: string; stream: string; attributes: Record<string, number> }[]> {
    return this.request('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  /** Re-enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    await this.request('POST', '/reset');
  }

  /** Fault handles for one proxy. */
  faults(name: string, listenPort: number, upstream: string): ProxyFaults {
    // Toxic names are unique per proxy; a counter keeps repeated faults of one kind apart.
    let seq = 0;
    const add = async (type: string, stream: ToxicDirection, attributes: Record<string, number>): Promise<string> => {
      const toxicName = `${type}_${stream}_${++seq}`;
      await this.addToxic(name, { name: toxicName, type, stream, attributes });
      return toxicName;
    };
    const both = async (type: string, direction: ToxicDirection | 'both', attributes: Record<string, number>): Promise<void> => {
      if (direction === 'both') {
        await add(type, 'upstream', attributes);
        await add(type, 'downstream', attributes);
      } else {
        await add(type, direction, attributes);
      }
    };
    return {
      name,
      host: '127.0.0.1',
      port: listenPort,
      upstream,
      latency: (ms, opts = {}) => both('latency', opts.direction ?? 'downstream', { latency: ms, jitter: opts.jitterMs ?? 0 }),
      bandwidth: (kbPerSecond, opts = {}) => both('bandwidth', opts.direction ?? 'downstream', { rate: kbPerSecond }),
      timeout: (ms = 0, opts = {}) => both('timeout', opts.direction ?? 'both', { timeout: ms }),
      resetPeer: (ms = 0, opts = {}) => both('reset_peer', opts.direction ?? 'downstream', { timeout: ms }),
      down: () => this.setEnabled(name, false),
      up: () => this.setEnabled(name, true),
      clear: async () => {
        for (const t of await this.listToxics(name)) await this.removeToxic(name, t.name);
        await this.setEnabled(name, true);
      },
    };
  }
}
