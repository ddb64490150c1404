/** The `http://` URL of `host:port`, an IPv6 address in brackets. */
export function httpUrl (host: string, port: number | string): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
