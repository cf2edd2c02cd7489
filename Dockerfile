# One image for every role; FANOUT_ROLES picks what a container runs.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY apps apps
# Builds the service and what it references, not the dev-only workspaces (bench, faults) left out of the image.
RUN npm ci --ignore-scripts && npx tsc -b apps/fanout && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production PORT=8080 FANOUT_FLOWS=/etc/fanout/flows
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 8080
ENTRYPOINT ["node", "apps/fanout/dist/main.js"]
CMD ["start"]
