export { startPostgres, type PostgresHandle, type StartPostgresOptions } from "./postgres.ts";
export { findPostgresBinaries, type PostgresBinaries } from "./postgres-binaries.ts";
export { freePort } from "./free-port.ts";
export { startProxy, type ProxyHandle, type StartProxyOptions } from "./haproxy.ts";
export type { ProxyServerState } from "./haproxy-runtime.ts";
export { renderHaproxyConfig, HAPROXY_TEMPLATE } from "./haproxy-config.ts";
export { startNginx, type NginxHandle, type StartNginxOptions } from "./nginx.ts";
export { renderNginxSite, NGINX_TEMPLATE } from "./nginx-config.ts";
