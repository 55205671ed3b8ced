export { allDashboards, dashboardFiles, dashboardQueries, dashboardVariableQueries } from './dashboard-files';
export type { PanelQuery } from './dashboard-files';
export { DEFAULT_DASHBOARD_OPTIONS, resolveDashboardOptions } from './dashboard-kit';
export type { DashboardOptions, ResolvedDashboardOptions } from './dashboard-kit';
