export { buildDashboard, type DashboardDeps } from './build-dashboard.js';
