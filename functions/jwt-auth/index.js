// viewer-request, published as a package: only viewers presenting a valid RS256 JSON Web
// Token (in `Authorization: Bearer …` or the `token` cookie) reach the cache; everyone else
// gets 401. The key, issuer and audience live in ./config.json — replace its `publicKey`
// with your identity provider's (the one checked in has no private key anywhere).
'use strict';

const crypto = require('crypto');
const { issuer, audience, publicKey } = require('./config.json');

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function tokenOf(headers) {
  const auth = headers.authorization && headers.authorization[0].value;
  if (auth && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  for (const { value } of headers.cookie || []) {
    for (const part of value.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === 'token') return rest.join('=');
    }
  }
  return null;
}

// The token's claims if its signature, algorithm, issuer, audience and times check out;
// otherwise why not.
function verify(token, now) {
  const parts = (token || '').split('.');
  if (parts.length !== 3) return { error: 'no token' };
  const [h, p, s] = parts;
  let header, claims;
  try {
    header = decode(h);
    claims = decode(p);
  } catch (e) {
    return { error: 'malformed token' };
  }
  if (header.alg !== 'RS256') return { error: `algorithm ${header.alg} not accepted` };
  const signed = crypto.createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
  if (!signed) return { error: 'bad signature' };
  if (claims.iss !== issuer) return { error: 'wrong issuer' };
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience)) return { error: 'wrong audience' };
  if (typeof claims.exp !== 'number' || claims.exp <= now) return { error: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now) return { error: 'not yet valid' };
  return { claims };
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const { claims, error } = verify(tokenOf(request.headers), Math.floor(Date.now() / 1000));
  if (!claims) {
    return {
      status: '401',
      statusDescription: 'Unauthorized',
      headers: {
        'www-authenticate': [{ key: 'WWW-Authenticate', value: `Bearer error="invalid_token", error_description="${error}"` }],
        'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
        'content-type': [{ key: 'Content-Type', value: 'text/plain' }],
      },
      body: 'Unauthorized',
    };
  }
  // The origin learns who the viewer is; the viewer cannot set this header themselves.
  request.headers['x-viewer-sub'] = [{ key: 'X-Viewer-Sub', value: String(claims.sub) }];
  return request;
};
