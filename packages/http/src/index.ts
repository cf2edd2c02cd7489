export { canonicalPath, isUnder } from './canonical-path.js';
export { errorHandler, notFoundHandler, redisStateError } from './error-handler.js';
export { createHttpServer, DEFAULT_HTTP_SERVER_LIMITS, type HttpServerLimits } from './http-server.js';
export { openApiDocument, openApiPath, type OpenApiDocument, type OpenApiInfo } from './openapi.js';
export type { RequestBodyDoc, ResponseDoc, RouteDoc } from './route-doc.js';
export { BASIC_CHALLENGE, presentedToken, requireToken, tokenMatches, type TokenAuthOptions } from './token-auth.js';
