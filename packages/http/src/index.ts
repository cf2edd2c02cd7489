export { errorHandler, notFoundHandler } from './error-handler.js';
export { openApiDocument, openApiPath, type OpenApiDocument, type OpenApiInfo } from './openapi.js';
export type { RequestBodyDoc, ResponseDoc, RouteDoc } from './route-doc.js';
