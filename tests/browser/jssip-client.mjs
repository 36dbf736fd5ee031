#!/usr/bin/env node
// A SIP-over-WebSocket client (RFC 7118) as browsers run it: JsSIP in a
// headless Chromium.  It registers and prints, one JSON object a line on
// stdout, what JsSIP itself reports, so that a test can check what a real
// WebRTC softphone makes of locus's answers:
//
//   {"event":"ws_open","protocol":"sip"}        the WebSocket is up
//   {"event":"registered","status":200,"pub_gruu":...,"temp_gruu":...,
//    "contact_uri":...}                          GRUUs as JsSIP stored them
//   {"event":"registrationFailed","cause":...,"status":...}
//   {"event":"newRTCSession","originator":"remote","ruri":...,"from":...,
//    "to":...,"call_id":...,"call_info":[...],"alert_info":[...]}
//                                                an incoming INVITE
//   {"event":"auto_answer","answer":true|false} --auto-answer's decision
//   {"event":"calling","target":...}             --call placed its call
//   {"event":"session_failed"|"session_ended","originator":...,"cause":...}
//   {"event":"session_accepted"|"session_confirmed",...} answered
//   {"event":"sip_out"|"sip_in","data":...}     every SIP message (--trace)
//   {"event":"exit","code":N,"why":...}          last line
//
// Usage: node jssip-client.mjs --ws=ws://127.0.0.1:PORT --uri=sip:USER@DOMAIN
//          [--password=P] [--user=AUTH_USER] [--instance=UUID]
//          [--expires=300] [--timeout=MS] [--until=registered|invite|ended|none]
//          [--call=URI] [--auto-answer]
//          [--trace] [--ignore-cert-errors] [--chromium=/usr/bin/chromium]
//
// --call: once registered, call URI (audio, the fake microphone).
// --auto-answer: answer an incoming call by itself when, and only when,
// its INVITE asks for it with Call-Info ;answer-after=0, as softphones
// built on JsSIP implement intercom (JsSIP leaves the decision to them).
//
// --until: exit once JsSIP reports a registration, an incoming INVITE, or
// the end (ended or failed) of an incoming session; "none" runs until the
// timeout (default 20 s) or SIGTERM/SIGINT, which is how a test closes the
// browser at a moment of its choosing.  Exit status: 0 when --until was
// reached (for "none": when stopped without a registration failure), 1
// when not, 2 on a usage or harness error.  The browser is closed in
// every case.
//
// The page and the JsSIP bundle are served from memory on a port the
// kernel picks on 127.0.0.1: JsSIP 3.13 ships only CommonJS, so esbuild
// bundles it at start-up (a fraction of a second) and nothing generated
// is written to disk.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const UNTIL = ['registered', 'invite', 'ended', 'none'];

function options(argv) {
	const o = {};
	for (const a of argv) {
		const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
		if (!m) throw new Error(`bad argument ${a}`);
		o[m[1]] = m[2] === undefined ? true : m[2];
	}
	const known = ['ws', 'uri', 'password', 'user', 'instance', 'expires',
		'timeout', 'until', 'trace', 'ignore-cert-errors', 'chromium',
		'call', 'auto-answer'];
	for (const k of Object.keys(o))
		if (!known.includes(k)) throw new Error(`unknown option --${k}`);
	if (!o.ws || !o.uri) throw new Error('--ws and --uri are required');
	if (!/^wss?:\/\//.test(o.ws)) throw new Error('--ws must be a ws:// or wss:// URL');
	const until = o.until || 'registered';
	if (!UNTIL.includes(until)) throw new Error(`--until must be one of ${UNTIL.join(', ')}`);
	return {
		ws: o.ws,
		uri: o.uri,
		password: o.password || null,
		user: o.user || null,
		instance: o.instance || randomUUID(),
		expires: Number(o.expires || 300),
		timeout: Number(o.timeout || 20000),
		until,
		trace: o.trace === true,
		ignoreCertErrors: o['ignore-cert-errors'] === true,
		chromium: o.chromium || '/usr/bin/chromium',
		call: o.call || null,
		autoAnswer: o['auto-answer'] === true,
	};
}

process.stdout.on('error', () => {});   // a closed pipe (| head) is no error
const out = (obj) => process.stdout.write(JSON.stringify({ t: Date.now(), ...obj }) + '\n');

async function bundle() {
	const r = await build({
		entryPoints: [path.join(here, 'node_modules/jssip/lib/JsSIP.js')],
		bundle: true, format: 'iife', globalName: 'JsSIP', platform: 'browser',
		minify: true, write: false, logLevel: 'silent',
	});
	return r.outputFiles[0].contents;
}

function serve(js) {
	const page = '<!doctype html><meta charset="utf-8"><title>jssip</title>' +
		'<script src="/jssip.js"></script>';
	const srv = http.createServer((req, res) => {
		if (req.url === '/jssip.js') {
			res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
		} else if (req.url === '/favicon.ico') {   // asked for by every page
			res.writeHead(204).end();
		} else if (req.url === '/') {
			res.writeHead(200, { 'content-type': 'text/html' }).end(page);
		} else {
			res.writeHead(404).end();
		}
	});
	return new Promise((resolve, reject) => {
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => resolve(srv));
	});
}

// Runs in the page; window.report is the Node function exposed to it.
function pageMain(p) {
	const report = (o) => window.report(o);
	// JsSIP opens its WebSocket itself: wrap the constructor to see the
	// handshake's outcome and, with --trace, every frame either way.
	const Native = window.WebSocket;
	window.WebSocket = function (url, protocols) {
		const ws = new Native(url, protocols);
		if (p.trace) {
			const send = ws.send.bind(ws);
			ws.send = (d) => { report({ event: 'sip_out', data: String(d) }); return send(d); };
			const text = (d) => (typeof d === 'string' ? d : new TextDecoder().decode(d));
			ws.addEventListener('message', (e) => report({ event: 'sip_in', data: text(e.data) }));
		}
		ws.addEventListener('open', () => report({ event: 'ws_open', protocol: ws.protocol }));
		ws.addEventListener('close', (e) => report({ event: 'ws_close', code: e.code, reason: e.reason }));
		return ws;
	};
	window.WebSocket.prototype = Native.prototype;
	Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });

	const ua = new JsSIP.UA({
		sockets: [new JsSIP.WebSocketInterface(p.ws)],
		uri: p.uri,
		password: p.password,
		authorization_user: p.user,
		instance_id: p.instance,
		register: true,
		register_expires: p.expires,
		session_timers: false,
		// a lost WebSocket is reopened within seconds, not up to 30 s
		connection_recovery_min_interval: 2,
		connection_recovery_max_interval: 4,
	});
	window.ua = ua;
	ua.on('connected', () => report({ event: 'connected' }));
	ua.on('disconnected', (e) => report({ event: 'disconnected', error: !!e.error, code: e.code, reason: e.reason }));
	const media = { mediaConstraints: { audio: true, video: false } };
	let called = false;
	ua.on('registered', () => {
		if (!p.call || called) return;
		called = true;
		ua.call(p.call, media);
		report({ event: 'calling', target: p.call });
	});
	ua.on('registered', (e) => report({
		event: 'registered',
		status: e.response.status_code,
		pub_gruu: ua.contact.pub_gruu,
		temp_gruu: ua.contact.temp_gruu,
		contact_uri: ua.contact.uri.toString(),
		contacts: e.response.getHeaders('Contact'),
		instance: p.instance,
	}));
	ua.on('unregistered', (e) => report({ event: 'unregistered', status: e && e.response ? e.response.status_code : null }));
	ua.on('registrationFailed', (e) => report({
		event: 'registrationFailed', cause: e.cause,
		status: e.response ? e.response.status_code : null,
	}));
	ua.on('newRTCSession', (e) => {
		const s = e.session, r = e.request;
		report({
			event: 'newRTCSession', originator: e.originator,
			ruri: r.ruri.toString(), from: r.from.toString(), to: r.to.toString(),
			call_id: r.call_id, has_sdp: !!r.body,
			call_info: r.getHeaders('Call-Info'), alert_info: r.getHeaders('Alert-Info'),
		});
		for (const ev of ['progress', 'accepted', 'confirmed', 'ended', 'failed'])
			s.on(ev, (x) => report({ event: `session_${ev}`, originator: x && x.originator, cause: x && x.cause }));
		if (p.autoAnswer && e.originator === 'remote') {
			const answer = r.getHeaders('Call-Info').some((v) => /;\s*answer-after\s*=\s*0\b/i.test(v));
			report({ event: 'auto_answer', answer });
			if (answer) s.answer(media);
		}
	});
	ua.start();
}

async function main() {
	let o;
	try {
		o = options(process.argv.slice(2));
	} catch (err) {
		process.stderr.write(`${err.message}\nusage: node jssip-client.mjs --ws=ws://HOST:PORT --uri=sip:USER@DOMAIN [--until=${UNTIL.join('|')}] [--timeout=MS] [--trace]\n`);
		process.exit(2);
	}
	let code = 1, done = false, finish, srv = null, browser = null;
	const finished = new Promise((r) => { finish = r; });
	const end = (c, why) => {
		if (done) return;
		done = true; code = c;
		out({ event: 'exit', code: c, why });
		finish();
	};
	let failedReg = false;
	const timer = setTimeout(() => end(o.until === 'none' && !failedReg ? 0 : 1, 'timeout'), o.timeout);
	for (const sig of ['SIGTERM', 'SIGINT'])
		process.on(sig, () => end(o.until === 'none' && !failedReg ? 0 : 1, sig));
	try {
		srv = await serve(await bundle());
		const args = ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking',
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];
		if (o.ignoreCertErrors) args.push('--ignore-certificate-errors');
		// Our own SIGTERM handler closes the browser; Playwright's would
		// kill it before the exit line is written.
		browser = await chromium.launch({
			executablePath: o.chromium, headless: true, args,
			handleSIGTERM: false, handleSIGINT: false,
		});
		if (done) throw new Error('stopped during start-up');
		const page = await browser.newPage();
		page.on('console', (m) => { if (m.type() === 'error') out({ event: 'console', text: m.text() }); });
		page.on('pageerror', (e) => out({ event: 'pageerror', text: String(e) }));
		await page.exposeFunction('report', (obj) => {
			if (done) return;
			out(obj);
			const ev = obj.event;
			if (ev === 'registrationFailed') {
				failedReg = true;
				if (o.until !== 'none') end(1, 'registrationFailed');
			} else if (ev === 'registered' && o.until === 'registered') {
				end(0, 'registered');
			} else if (ev === 'newRTCSession' && obj.originator === 'remote' && o.until === 'invite') {
				end(0, 'invite');
			} else if (/^session_(ended|failed)$/.test(ev) && o.until === 'ended') {
				end(0, ev);
			}
		});
		await page.goto(`http://127.0.0.1:${srv.address().port}/`);
		await page.evaluate(pageMain, o);
		await finished;
	} catch (err) {
		if (!done) {
			out({ event: 'harness_error', error: String(err) });
			end(2, 'harness_error');
		}
	} finally {
		clearTimeout(timer);
		if (browser) await browser.close().catch(() => {});
		if (srv) srv.close();
	}
	process.exit(code);
}

main();
