/** Home Assistant ingress: the proxy strips `/api/hassio_ingress/<token>` and tells us in a header. */

const INGRESS_PATH_RE = /^\/api\/hassio_ingress\/[A-Za-z0-9_-]{1,256}$/;

/** The prefix to put in front of absolute links we hand out (e.g. `Location`), or '' outside ingress. */
export function ingressPrefix(header: string | string[] | undefined): string {
  return typeof header === 'string' && INGRESS_PATH_RE.test(header) ? header : '';
}
