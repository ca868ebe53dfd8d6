# syntax=docker/dockerfile:1
# One image for every fleetscan process: `worker`, `dashboard`, `simulate` and one-shot commands
# (`scan`, `status`, `export`, `cancel`). The entrypoint is the CLI; the command picks the role.

# --- build: all dependencies, compile TypeScript, copy Lua/CSS/JS assets beside the output ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY config ./config
COPY src ./src
COPY workers ./workers
COPY bench ./bench
RUN npm run build

# --- deps: production dependencies only ---
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime: no compiler, no dev dependencies, not root ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root config ./config
# /certs: where the demo simulator shares its self-signed certificate (a named volume mounted
# there starts out owned by `node`). The code is owned by root, read-only to the process.
RUN mkdir /certs /archives && chown node:node /certs /archives
USER node
EXPOSE 3000 4010
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["--help"]
