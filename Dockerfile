# The services image: `mixstack <command>` (ingest, worker, bootstrap, backup, scheduler, ...).
# Node LTS, the esbuild bundle of services/ (no Pulumi SDK, no node_modules), the GeoIP data, and
# `influxd` from the pinned InfluxDB image for `influxd backup/restore -portable`.
# Build context: the repository root (see .dockerignore). Deployed by image ID, so a rebuild rolls out.

FROM node:24.14.0-trixie-slim AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY services ./services
RUN npx tsx services/image/bundle.ts /out

FROM influxdb:1.12.4 AS influxdb

FROM node:24.14.0-trixie-slim
ENV NODE_ENV=production \
    GEODATADIR=/app/geoip \
    PATH=/app/bin:$PATH
COPY --from=influxdb /usr/bin/influxd /usr/local/bin/influxd
COPY --from=bundle /src/node_modules/geoip-lite/data /app/geoip
COPY --from=bundle /out /app
# The backups volume is mounted here; a fresh named volume takes this directory's owner.
RUN mkdir -p /backups && chown node:node /backups && influxd version
USER node
WORKDIR /app
ENTRYPOINT ["node", "--enable-source-maps", "/app/mixstack.js"]
CMD ["--help"]
