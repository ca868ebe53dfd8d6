# syntax=docker/dockerfile:1
# One image for every fleetscan process: `worker`, `dashboard`, `simulate` and one-shot commands
# (`scan`, `status`, `export`, `cancel`). The entrypoint is the CLI; the command picks the role.
# The image installs the same release tarball `npm pack` makes, so what runs in a container is
# what `npm install -g fleetscan-x.y.z.tgz` installs anywhere else.
#   docker build --build-arg FLEETSCAN_COMMIT=$(git rev-parse --short=12 HEAD) -t fleetscan .

# --- build: all dependencies, compile TypeScript, pack the release tarball ---
FROM node:20-bookworm-slim AS build
# The build context has no .git: the commit `fleetscan --version` names comes in as an argument.
ARG FLEETSCAN_COMMIT=unknown
ENV FLEETSCAN_COMMIT=${FLEETSCAN_COMMIT}
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
RUN npm run build && mkdir /release && npm pack --ignore-scripts --pack-destination /release

# --- deps: the tarball installed with production dependencies only ---
FROM node:20-bookworm-slim AS deps
COPY --from=build /release /release
RUN npm install -g --omit=dev --no-audit --no-fund /release/fleetscan-*.tgz && npm cache clean --force

# --- runtime: no compiler, no dev dependencies, not root ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
COPY --from=deps --chown=root:root /usr/local/lib/node_modules/fleetscan /usr/local/lib/node_modules/fleetscan
RUN ln -s ../lib/node_modules/fleetscan/dist/src/cli/main.js /usr/local/bin/fleetscan
# /certs: where the demo simulator shares its self-signed certificate (a named volume mounted
# there starts out owned by `node`). The code is owned by root, read-only to the process.
RUN mkdir /certs /archives && chown node:node /certs /archives
# Relative paths in the configuration (retention.archiveDir) resolve from here.
WORKDIR /app
USER node
EXPOSE 3000 4010
# Healthy while a worker in this container beats, or the dashboard answers /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["fleetscan", "healthcheck"]
ENTRYPOINT ["fleetscan"]
CMD ["--help"]
