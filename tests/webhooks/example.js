// A receiver that verifies leadrouted's webhooks (Standard Webhooks).
const http = require('http');
const { Webhook } = require('standardwebhooks');
const wh = new Webhook(process.env.WEBHOOK_SECRET);   // "whsec_..."

http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    try {
      const event = wh.verify(body, req.headers);    // throws unless signed
      console.log(`${req.headers['webhook-id']} ${event.type} ${event.data.lead_id}`);
      res.writeHead(204).end();                      // any 2xx: delivered
    } catch (err) {
      res.writeHead(400).end();                      // 4xx: dead at once
    }
  });
}).listen(Number(process.env.PORT || 8080), '127.0.0.1');
