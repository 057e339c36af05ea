// receiver.js - the webhook tests' HTTP receiver: answers as the request's path asks, verifies every signature with the standardwebhooks package (an implementation we did not write), and logs one JSON line per request.
//
// node receiver.js PORT LOG SECRET [CERT KEY]  (with CERT and KEY: https)
// Paths (the endpoint's URL): /ok; /fail/N/CODE (the first N attempts of
// each webhook-id get CODE, then 200); /retry-after/N/S (the first N get
// 429 with Retry-After: S); /always/CODE (302 and 301 with a Location);
// /hang (never answers); /hang-once (the first attempt of each id hangs,
// the next get 200); /slow/MS (200 after MS ms).
// Each line: {"at_ms","path","id","ts","sig","verified","body","status"}.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const [port, logPath, secret, cert, key] = process.argv.slice(2);
const wh = new Webhook(secret);
const seen = new Map();	// webhook-id -> attempts seen

function log(o) {
	fs.appendFileSync(logPath, JSON.stringify(o) + '\n');
}

function handle(req, res) {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		const id = req.headers['webhook-id'] || '';
		let verified = false;
		try {
			wh.verify(body, req.headers);
			verified = true;
		} catch (e) {
			verified = false;
		}
		const n = (seen.get(id) || 0) + 1;
		seen.set(id, n);
		const p = req.url.split('/').filter((s) => s !== '');
		let status = 200;
		const headers = {};
		if (p[0] === 'fail' && n <= Number(p[1])) {
			status = Number(p[2]);
		} else if (p[0] === 'retry-after' && n <= Number(p[1])) {
			status = 429;
			headers['retry-after'] = p[2];
		} else if (p[0] === 'always') {
			status = Number(p[1]);
			headers.location = '/ok';
		}
		const entry = { at_ms: Date.now(), path: req.url, method: req.method,
		    id, ts: req.headers['webhook-timestamp'] || '',
		    sig: req.headers['webhook-signature'] || '',
		    ctype: req.headers['content-type'] || '', verified, body,
		    status: p[0] === 'hang' || (p[0] === 'hang-once' && n === 1) ?
		    0 : status };
		log(entry);
		if (p[0] === 'hang' || (p[0] === 'hang-once' && n === 1))
			return;		// the client times out
		const answer = () => {
			res.writeHead(status, headers);
			res.end('{}');
		};
		if (p[0] === 'slow')
			setTimeout(answer, Number(p[1]));
		else
			answer();
	});
}

const server = cert ? https.createServer({ cert: fs.readFileSync(cert),
    key: fs.readFileSync(key) }, handle) : http.createServer(handle);
server.listen(Number(port), '127.0.0.1', () => log({ ready: true }));
process.on('SIGTERM', () => process.exit(0));
