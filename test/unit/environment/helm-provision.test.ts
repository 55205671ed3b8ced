import { ensureHelm, helmLdflags } from '../../../environment/provision';
import { PrerequisiteError } from '../../../core/errors';

describe('ensureHelm', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('an EDA_HARNESS_HELM_BIN that does not exist is reported as such', async () => {
    process.env['EDA_HARNESS_HELM_BIN'] = '/nonexistent/helm';
    const err = await ensureHelm({ progress: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect((err as PrerequisiteError).message).toBe('EDA_HARNESS_HELM_BIN=/nonexistent/helm does not exist.');
  });

  it('an existing EDA_HARNESS_HELM_BIN is used as it is, nothing built', async () => {
    process.env['EDA_HARNESS_HELM_BIN'] = process.execPath;
    await expect(ensureHelm({ progress: () => { throw new Error('nothing should be built'); } })).resolves.toBe(process.execPath);
  });

  it('stamps the version and, for a known release, its Kubernetes version in as the release build does', () => {
    const flags = helmLdflags('3.22.0');
    expect(flags).toEqual(expect.arrayContaining(['-s', '-w', '-X helm.sh/helm/v3/internal/version.version=v3.22.0']));
    // helm 3.22.0 is built with k8s.io/client-go v0.37.0: Kubernetes 1.37 (not helm's fallback, 1.20).
    for (const pkg of ['helm.sh/helm/v3/pkg/lint/rules', 'helm.sh/helm/v3/pkg/chartutil']) {
      expect(flags).toContain(`-X ${pkg}.k8sVersionMajor=1`);
      expect(flags).toContain(`-X ${pkg}.k8sVersionMinor=37`);
    }
    // An unknown release: its version only; Helm then assumes its own fallback Kubernetes version.
    expect(helmLdflags('3.99.0')).toEqual(['-s', '-w', '-X helm.sh/helm/v3/internal/version.version=v3.99.0']);
  });
});
