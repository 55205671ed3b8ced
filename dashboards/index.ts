export { allDashboards, dashboardFiles, dashboardQueries, dashboardVariableQueries } from './dashboard-files';
export type { PanelQuery } from './dashboard-files';
