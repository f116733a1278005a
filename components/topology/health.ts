/** Health checks our services' containers run, and the port their metrics and `/healthz` listen on. */

// The services image has node but neither curl nor wget.
export const nodeHttpCheck = (port: number, path: string) =>
  `node -e "fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
// The certificate names the public host, not 127.0.0.1: the check asks "alive?", not "trusted?".
export const nodeHttpsCheck = (port: number, path: string) =>
  `node -e "require('https').get({host:'127.0.0.1',port:${port},path:'${path}',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"`;

// As nodeHttpCheck, and prints the answer's body: Docker keeps it in the health log, so
// `docker inspect` shows why a container is unhealthy.
export const nodeHttpCheckWithReason = (port: number, path: string) =>
  `node -e "fetch('http://127.0.0.1:${port}${path}').then(r=>r.text().then(t=>{console.log(t);process.exit(r.ok?0:1)}),e=>{console.log(e.message);process.exit(1)})"`;

/**
 * Prometheus `/metrics` of ingest, the worker and the in-stack backup scheduler (their
 * `METRICS_PORT`): a private port, never published or forwarded by a load balancer. Nothing in the
 * stack scrapes it; docs/topology.md says how an operator's Prometheus reaches it on each platform.
 */
export const METRICS_PORT = 9464;
