// viewer-request: only viewers with a valid HMAC-signed `session` cookie may pass.
// A cookie is `session=<user>.<expires-epoch-seconds>.<hex HMAC-SHA256 of "user.expires">`.
'use strict';
const crypto = require('crypto');

const SECRET = 'change-me-in-production';

function sign(payload) {
  return crypto.createHmac('sha256', SECRET).update(payload).digest('hex');
}

function sessionFrom(headers) {
  for (const { value } of headers.cookie || []) {
    for (const part of value.split(';')) {
      const i = part.indexOf('=');
      if (part.slice(0, i).trim() === 'session') return part.slice(i + 1).trim();
    }
  }
  return null;
}

function forbidden(reason) {
  return {
    status: '403',
    statusDescription: 'Forbidden',
    headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain' }] },
    body: `Forbidden: ${reason}\n`,
  };
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const session = sessionFrom(request.headers);
  if (!session) return forbidden('no session cookie');
  const [user, expires, signature] = session.split('.');
  if (!user || !expires || !signature) return forbidden('malformed session cookie');
  const good = Buffer.from(sign(`${user}.${expires}`), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (good.length !== given.length || !crypto.timingSafeEqual(good, given)) return forbidden('bad signature');
  if (Number(expires) * 1000 < Date.now()) return forbidden('session expired');
  request.headers['x-user'] = [{ key: 'X-User', value: user }];
  return request;
};
