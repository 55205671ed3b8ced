import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { ConfigError } from '../../../core/errors';
import { createExporter } from '../../../exporter/exporter';
import { listenError, MetricsServerError, serveMetrics } from '../../../exporter/metrics-server';

/** A metrics port that cannot be opened is one line saying why and which setting chose it; no broker is involved. */

const sysError = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code });

describe('metrics server: listen failures', () => {
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
  });

  it('a busy port is a MetricsServerError (exit 1) naming the address and the setting', async () => {
    const exporter = createExporter({ config: {} });
    const err = await serveMetrics({ exporter, port: busyPort, host: '127.0.0.1', settingNames: { port: '--port' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MetricsServerError);
    expect(err).toMatchObject({ code: 'PROCESS_FAILED', systemCode: 'EADDRINUSE', retriable: true, message: `cannot listen on 127.0.0.1:${busyPort} (--port): the port is already in use` });
    await exporter.stop();
  });

  it('a port out of range is refused as an error of ours, not a RangeError', async () => {
    const exporter = createExporter({ config: {} });
    await expect(serveMetrics({ exporter, port: 70_000, host: '127.0.0.1' })).rejects.toBeInstanceOf(MetricsServerError);
    await exporter.stop();
  });

  it('maps system errors: the machine state is exit 1, a wrong address or host name is bad input', () => {
    const names = { port: 'EDA_EXPORTER_PORT', host: '--host' };
    expect(listenError(sysError('EACCES'), '0.0.0.0', 80, names)).toMatchObject({ message: 'cannot listen on 0.0.0.0:80 (EDA_EXPORTER_PORT): permission denied', code: 'PROCESS_FAILED' });
    const notMine = listenError(sysError('EADDRNOTAVAIL'), '192.0.2.1', 9464, names);
    expect(notMine).toBeInstanceOf(ConfigError);
    expect(notMine.message).toBe('cannot listen on 192.0.2.1:9464 (--host): 192.0.2.1 is not an address of this machine');
    const unresolved = listenError(sysError('ENOTFOUND'), 'nowhere.invalid', 9464, names);
    expect(unresolved).toBeInstanceOf(ConfigError);
    expect(unresolved.message).toBe('cannot listen on nowhere.invalid:9464 (--host): the host name nowhere.invalid does not resolve (ENOTFOUND)');
    expect(listenError(sysError('EMFILE'), '::1', 9464).message).toBe('cannot listen on [::1]:9464: listen EMFILE');
  });
});
