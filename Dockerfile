# The console as a container, for docker-compose.yml. It drives the host's Docker engine through
# the socket mounted there; job containers never get that socket.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ busybox-static && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# .npmrc points node-gyp at Debian's headers; the node image ships its own.
RUN sed -i "/^nodedir=/d" .npmrc && npm ci --no-audit --no-fund && npx vite build
ENV PORT=8080 DATA_DIR=/data
EXPOSE 8080
CMD ["npx", "tsx", "apps/server/src/main.ts", "--demo"]
