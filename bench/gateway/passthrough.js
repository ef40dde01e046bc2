// A do-nothing HTTP pass-through proxy: the reference the issue compares the gateway against
// ("a do-nothing Node pass-through proxy adds 0.24 ms"). Every request is forwarded as is to the
// upstream over a keep-alive agent and its answer piped back, streaming included.
//
//   node bench/gateway/passthrough.js LISTEN_PORT UPSTREAM_PORT
'use strict';
const http = require('http');

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
if (!listenPort || !upstreamPort) {
  console.error('usage: node passthrough.js LISTEN_PORT UPSTREAM_PORT');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

http
  .createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    req.pipe(upstream);
  })
  .listen(listenPort, '127.0.0.1', () => console.log(`passthrough on ${listenPort} -> ${upstreamPort}`));
