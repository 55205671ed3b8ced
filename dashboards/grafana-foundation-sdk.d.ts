/**
 * The foundation SDK publishes one subpath per kind (`@grafana/grafana-foundation-sdk/dashboard`)
 * through package.json `exports` only. Node resolves those at run time, but this repository's
 * `moduleResolution: node10` ignores `exports`, so the type checker would not find them. These
 * declarations point the type checker at the same files Node loads; they add no types of their
 * own. (With `moduleResolution: node16` or a `paths` entry in tsconfig.json this file can go.)
 */
declare module '@grafana/grafana-foundation-sdk/dashboard' {
  export * from '@grafana/grafana-foundation-sdk/dist/dashboard';
}
declare module '@grafana/grafana-foundation-sdk/prometheus' {
  export * from '@grafana/grafana-foundation-sdk/dist/prometheus';
}
declare module '@grafana/grafana-foundation-sdk/timeseries' {
  export * from '@grafana/grafana-foundation-sdk/dist/timeseries';
}
declare module '@grafana/grafana-foundation-sdk/stat' {
  export * from '@grafana/grafana-foundation-sdk/dist/stat';
}
declare module '@grafana/grafana-foundation-sdk/heatmap' {
  export * from '@grafana/grafana-foundation-sdk/dist/heatmap';
}
declare module '@grafana/grafana-foundation-sdk/statetimeline' {
  export * from '@grafana/grafana-foundation-sdk/dist/statetimeline';
}
declare module '@grafana/grafana-foundation-sdk/table' {
  export * from '@grafana/grafana-foundation-sdk/dist/table';
}
declare module '@grafana/grafana-foundation-sdk/common' {
  export * from '@grafana/grafana-foundation-sdk/dist/common';
}
declare module '@grafana/grafana-foundation-sdk/cog' {
  export * from '@grafana/grafana-foundation-sdk/dist/cog';
}
