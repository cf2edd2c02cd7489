# One image for every role: `start <role>` (or FANOUT_ROLES) picks what a container runs.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY apps apps
# Builds the service and what it references, not the dev-only workspaces (bench, faults) left out of the image.
RUN npm ci --ignore-scripts && npx tsc -b apps/fanout

# The runtime's node_modules is installed afresh with the service's production dependencies
# only: the build stage's also holds the test tooling (testcontainers, ssh2, playwright-core,
# TypeScript, Jest). valibot (Bull Board's) names TypeScript as an optional peer, which npm
# keeps: nothing runs it, so it goes.
FROM node:24-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/packages packages
COPY --from=build /app/apps apps
RUN npm ci --omit=dev --ignore-scripts --workspace @fanout/fanout && rm -rf node_modules/typescript

FROM node:24-slim
ENV NODE_ENV=production PORT=8080 FANOUT_FLOWS=/etc/fanout/flows
WORKDIR /app
COPY --from=runtime /app /app
USER node
EXPOSE 8080
ENTRYPOINT ["node", "apps/fanout/dist/main.js"]
CMD ["start"]
