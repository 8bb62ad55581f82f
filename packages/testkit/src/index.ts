export { startPostgres, type PostgresHandle, type StartPostgresOptions } from "./postgres";
export { findPostgresBinaries, type PostgresBinaries } from "./postgres-binaries";
export { freePort } from "./free-port";
export { startProxy, type ProxyHandle, type StartProxyOptions } from "./haproxy";
export type { ProxyServerState } from "./haproxy-runtime";
export { renderHaproxyConfig, HAPROXY_TEMPLATE } from "./haproxy-config";
export { startNginx, type NginxHandle, type StartNginxOptions } from "./nginx";
export { renderNginxSite, NGINX_TEMPLATE } from "./nginx-config";
